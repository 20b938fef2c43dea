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
#include <c10/cuda/CUDAStream.h>
#include <cublasLt.h>
#include <cublas_v2.h>

#include <array>
#include <memory>

#include "vecsac/nn/activation_launch.h"
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

// Applies `f` to every element of every member's C.
template <typename F>
void for_each_c(const Gemm& g, F f) {
  for (int64_t e = 0; e < g.batch; ++e) {
    for (int64_t i = 0; i < g.m; ++i) {
      float* c = g.c + e * g.stride_c + i * g.ldc;
      for (int64_t j = 0; j < g.n; ++j) c[j] = f(c[j]);
    }
  }
}

float relu(float v) { return v < 0.0f ? 0.0f : v; }  // NaN stays, as in torch's relu
float relu_if(bool on, float v) { return on ? relu(v) : v; }

void library_gemm(const Gemm& g);

void cpu_gemm(const Gemm& g) {
  if (g.k == 0) {  // C = beta C, where MKL leaves C as it was even for beta 0
    for_each_c(g, [&](float c) { return relu_if(g.relu, g.beta == 0.0f ? 0.0f : g.beta * c); });
    return;
  }
  if (own_cpu_gemm(g)) return;
  library_gemm(g);
  if (g.relu) for_each_c(g, relu);
}

// Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: the BLAS sees each
// row-major matrix as its transpose, so B comes first and the flags stay as they are.
void library_gemm(const Gemm& g) {
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
// Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T, as on the CPU.
void cuda_gemm(const Gemm& g) {
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

void lt_check(cublasStatus_t status, const char* call) {
  TORCH_CHECK(status == CUBLAS_STATUS_SUCCESS, "gemm: ", call, " failed with ",
              cublasGetStatusString(status));
}
#define VECSAC_LT(call) lt_check(call, #call)

// The largest power of two, up to 256 bytes, that every member's matrix starts on: cuBLASLt
// assumes 256 unless told, and the engine's activations (rows of width + 1 floats) are
// often only 4-byte aligned.
uint32_t alignment(const float* p, int64_t stride_floats) {
  const auto bits =
      reinterpret_cast<uintptr_t>(p) | static_cast<uintptr_t>(stride_floats * 4) | 256;
  return static_cast<uint32_t>(bits & (~bits + 1));
}

// One call shape's cuBLASLt descriptors and algorithm. The heuristic query costs tens of
// microseconds, more than a small GEMM, so plans are made once per shape and kept.
struct LtPlan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
  bool usable = false;  // false: no cuBLASLt algorithm takes this shape with a ReLU epilogue
  LtPlan() = default;
  LtPlan(const LtPlan&) = delete;
  LtPlan& operator=(const LtPlan&) = delete;
  ~LtPlan() {  // host-side objects: safe to free after the CUDA context is gone
    for (cublasLtMatrixLayout_t l : {a, b, c}) {
      if (l != nullptr) cublasLtMatrixLayoutDestroy(l);
    }
    if (op != nullptr) cublasLtMatmulDescDestroy(op);
  }
};

cublasLtMatrixLayout_t lt_layout(int64_t rows, int64_t cols, int64_t ld, int64_t stride,
                                 int64_t batch) {
  cublasLtMatrixLayout_t layout = nullptr;
  VECSAC_LT(cublasLtMatrixLayoutCreate(&layout, CUDA_R_32F, rows, cols, ld));
  const int32_t count = to_int(batch, "batch");
  VECSAC_LT(cublasLtMatrixLayoutSetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count,
                                             sizeof(count)));
  VECSAC_LT(cublasLtMatrixLayoutSetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                             &stride, sizeof(stride)));
  return layout;
}

using LtKey = std::array<int64_t, 16>;

LtKey lt_key(const Gemm& g, int device) {
  return {g.trans_a,
          g.trans_b,
          g.m,
          g.n,
          g.k,
          g.lda,
          g.ldb,
          g.ldc,
          g.stride_a,
          g.stride_b,
          g.stride_c,
          g.batch,
          device,
          alignment(g.a, g.stride_a),
          alignment(g.b, g.stride_b),
          alignment(g.c, g.stride_c)};
}

std::unique_ptr<LtPlan> make_lt_plan(const Gemm& g, cublasLtHandle_t lt, size_t workspace) {
  auto plan = std::make_unique<LtPlan>();
  VECSAC_LT(cublasLtMatmulDescCreate(&plan->op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  // cuBLAS's A and B are our B and A (the column-major view above).
  const cublasOperation_t op_a = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_RELU;
  VECSAC_LT(
      cublasLtMatmulDescSetAttribute(plan->op, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof(op_a)));
  VECSAC_LT(
      cublasLtMatmulDescSetAttribute(plan->op, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof(op_b)));
  VECSAC_LT(cublasLtMatmulDescSetAttribute(plan->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue,
                                           sizeof(epilogue)));
  plan->a = g.trans_b ? lt_layout(g.k, g.n, g.ldb, g.stride_b, g.batch)
                      : lt_layout(g.n, g.k, g.ldb, g.stride_b, g.batch);
  plan->b = g.trans_a ? lt_layout(g.m, g.k, g.lda, g.stride_a, g.batch)
                      : lt_layout(g.k, g.m, g.lda, g.stride_a, g.batch);
  plan->c = lt_layout(g.n, g.m, g.ldc, g.stride_c, g.batch);

  cublasLtMatmulPreference_t pref = nullptr;
  VECSAC_LT(cublasLtMatmulPreferenceCreate(&pref));
  const uint32_t align_a = alignment(g.b, g.stride_b), align_b = alignment(g.a, g.stride_a),
                 align_c = alignment(g.c, g.stride_c);
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace,
                                       sizeof(workspace));
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align_a,
                                       sizeof(align_a));
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align_b,
                                       sizeof(align_b));
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_c,
                                       sizeof(align_c));
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_c,
                                       sizeof(align_c));
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(
      lt, plan->op, plan->a, plan->b, plan->c, plan->c, pref, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  plan->usable = status == CUBLAS_STATUS_SUCCESS && found > 0;
  if (plan->usable) plan->algo = result.algo;
  return plan;
}

// A hidden layer on CUDA: one cuBLASLt kernel with the ReLU epilogue, or, where cuBLASLt has
// no algorithm for the shape, cuBLAS then vecsac's ReLU kernel (a second launch, counted).
void cuda_gemm_relu(const Gemm& g, int device) {
  thread_local std::vector<std::pair<LtKey, std::unique_ptr<LtPlan>>> plans;
  cublasLtHandle_t lt = at::cuda::getCurrentCUDABlasLtHandle();
  const size_t workspace_bytes = at::cuda::getCUDABlasLtWorkspaceSize();
  const LtKey key = lt_key(g, device);
  LtPlan* plan = nullptr;
  for (auto& [k, p] : plans) {
    if (k == key) plan = p.get();
  }
  if (plan == nullptr) {
    plans.emplace_back(key, make_lt_plan(g, lt, workspace_bytes));
    plan = plans.back().second.get();
  }
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream(device).stream();
  if (plan->usable) {
    const float one = 1.0f;
    VECSAC_LT(cublasLtMatmul(lt, plan->op, &one, g.b, plan->a, g.a, plan->b, &g.beta, g.c, plan->c,
                             g.c, plan->c, &plan->algo, at::cuda::getCUDABlasLtWorkspace(),
                             workspace_bytes, stream));
    return;
  }
  cuda_gemm(g);
  count_launch();
  launch_relu({g.c, g.batch, g.m, g.n, g.ldc, g.stride_c}, stream);
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
  // The handles and stream are the current device's: make that `device`.
  const c10::cuda::CUDAGuard guard(device);
  if (g.relu) {
    cuda_gemm_relu(g, c10::cuda::current_device());
  } else {
    cuda_gemm(g);
  }
#else
  TORCH_CHECK(false, "gemm: device ", device,
              " needs CUDA, but this vecsac was built with VECSAC_CUDA=OFF");
#endif
}
// HOT LOOP END

}  // namespace vecsac
