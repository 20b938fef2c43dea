/// @brief gemm(): the BLAS calls of the update engine.
#include "vecsac/nn/gemm.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <climits>

#include "vecsac/nn/cpu_gemm.h"
#include "vecsac/nn/launch_count.h"

#ifdef VECSAC_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <cublas_v2.h>
#endif

// MKL's Fortran sgemm, exported by the torch wheel's libtorch_cpu (x86-64 builds link
// MKL statically and export its BLAS). Weak, so a torch built without MKL still links
// and gemm() falls back to ATen's mm.
extern "C" void sgemm_(const char* transa, const char* transb, const int* m, const int* n,
                       const int* k, const float* alpha, const float* a, const int* lda,
                       const float* b, const int* ldb, const float* beta, float* c, const int* ldc)
    __attribute__((weak));

namespace vecsac {
namespace {

int to_int(int64_t v, const char* what) {
  TORCH_CHECK(v >= 0 && v <= INT_MAX, "gemm: ", what, " = ", v, " does not fit the BLAS's int");
  return static_cast<int>(v);
}

// Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: the BLAS sees each
// row-major matrix as its transpose, so B comes first and the flags stay as they are.
void cpu_gemm(const Gemm& g) {
  if (g.k == 0) {  // C = beta C, where MKL leaves C as it was even for beta 0
    for (int64_t e = 0; e < g.batch; ++e) {
      for (int64_t i = 0; i < g.m; ++i) {
        float* c = g.c + e * g.stride_c + i * g.ldc;
        for (int64_t j = 0; j < g.n; ++j) c[j] = g.beta == 0.0f ? 0.0f : g.beta * c[j];
      }
    }
    return;
  }
  if (own_cpu_gemm(g)) return;
  const int m = to_int(g.m, "m"), n = to_int(g.n, "n"), k = to_int(g.k, "k");
  const int lda = to_int(g.lda, "lda"), ldb = to_int(g.ldb, "ldb"), ldc = to_int(g.ldc, "ldc");
  const char op_a = g.trans_a ? 'T' : 'N', op_b = g.trans_b ? 'T' : 'N';
  const float one = 1.0f;
  for (int64_t e = 0; e < g.batch; ++e) {
    const float* a = g.a + e * g.stride_a;
    const float* b = g.b + e * g.stride_b;
    float* c = g.c + e * g.stride_c;
    if (sgemm_ != nullptr) {
      sgemm_(&op_b, &op_a, &n, &m, &k, &one, b, &ldb, a, &lda, &g.beta, c, &ldc);
      continue;
    }
    auto view = [](const float* p, int64_t rows, int64_t cols, int64_t ld, bool t) {
      at::Tensor x = at::from_blob(const_cast<float*>(p), {t ? cols : rows, t ? rows : cols},
                                   {ld, 1}, at::kFloat);
      return t ? x.t() : x;
    };
    at::Tensor out = at::from_blob(c, {g.m, g.n}, {g.ldc, 1}, at::kFloat);
    const at::Tensor prod =
        at::mm(view(a, g.m, g.k, g.lda, g.trans_a), view(b, g.k, g.n, g.ldb, g.trans_b));
    if (g.beta == 0.0f) {
      out.copy_(prod);
    } else {
      out.mul_(g.beta).add_(prod);
    }
  }
}

#ifdef VECSAC_WITH_CUDA
void cuda_gemm(const Gemm& g, c10::Device device) {
  // The handle and stream are the current device's: make that `device`.
  const c10::cuda::CUDAGuard guard(device);
  cublasHandle_t handle = at::cuda::getCurrentCUDABlasHandle();  // bound to the current stream
  const float one = 1.0f;
  const cublasStatus_t status = cublasSgemmStridedBatched(
      handle, g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
      to_int(g.n, "n"), to_int(g.m, "m"), to_int(g.k, "k"), &one, g.b, to_int(g.ldb, "ldb"),
      g.stride_b, g.a, to_int(g.lda, "lda"), g.stride_a, &g.beta, g.c, to_int(g.ldc, "ldc"),
      g.stride_c, to_int(g.batch, "batch"));
  TORCH_CHECK(status == CUBLAS_STATUS_SUCCESS, "gemm: cublasSgemmStridedBatched failed with ",
              cublasGetStatusString(status), " (m ", g.m, ", n ", g.n, ", k ", g.k, ")");
}
#endif

}  // namespace

std::vector<Gemm>*& gemm_recorder() {
  thread_local std::vector<Gemm>* recorder = nullptr;
  return recorder;
}

// HOT LOOP BEGIN: every gradient step runs these (tools/check_hot_loop.sh)
void gemm(const Gemm& g, c10::Device device) {
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;
  count_launch();
  if (std::vector<Gemm>* recorder = gemm_recorder()) recorder->push_back(g);
  if (device.is_cpu()) {
    cpu_gemm(g);
    return;
  }
#ifdef VECSAC_WITH_CUDA
  TORCH_CHECK(device.is_cuda(), "gemm: unsupported device ", device);
  cuda_gemm(g, device);
#else
  TORCH_CHECK(false, "gemm: device ", device,
              " needs CUDA, but this vecsac was built with VECSAC_CUDA=OFF");
#endif
}
// HOT LOOP END

}  // namespace vecsac
