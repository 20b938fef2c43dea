/// @brief Batched float32 GEMM on raw device pointers: MKL's sgemm on the CPU, cuBLAS on CUDA.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <vector>

namespace vecsac {

/// Row-major C[e] = op(A[e]) op(B[e]) + beta C[e] for e < batch, where op(X) is X or its
/// transpose. A is stored [m, k] (trans_a: [k, m]) with leading dimension lda, B [k, n]
/// (trans_b: [n, k]), C [m, n]; stride_* is the distance between batch members (0 shares
/// one operand across members, as the twin critics share their input). With `relu`, C is
/// then max(C, 0) in the same call (NaN stays NaN, as torch's relu): the hidden layers'
/// activation costs no pass and no launch of its own.
struct Gemm {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  const float* a = nullptr;
  int64_t lda = 0, stride_a = 0;
  const float* b = nullptr;
  int64_t ldb = 0, stride_b = 0;
  float beta = 0.0f;
  float* c = nullptr;
  int64_t ldc = 0, stride_c = 0;
  int64_t batch = 1;
  bool relu = false;
};

/// Runs `g` on `device` (the current CUDA stream there) and counts its launches: one, or two
/// where a CUDA ReLU falls back to a kernel of its own. Calls the
/// BLAS directly, without ATen's dispatcher: one small GEMM of SAC costs a few
/// microseconds, about what a dispatched op's overhead alone would add.
void gemm(const Gemm& g, c10::Device device);

/// While set (non-null) on a thread, gemm() also appends each call's arguments there:
/// bench/sac_bench.cpp records one update's GEMMs and replays them alone, the reference
/// its overhead is measured against.
std::vector<Gemm>*& gemm_recorder();

}  // namespace vecsac
