/// @brief vecsac's own single-threaded AVX2 GEMM for the small shapes SAC trains with, beside
/// MKL: which one gemm() calls on the CPU.
#pragma once

#include "vecsac/nn/gemm.h"

namespace vecsac {

/// Which library runs gemm() on the CPU.
enum class CpuGemm {
  /// Ours for calls up to 64 MFLOP with 1 CPU thread and up to 4 MFLOP with more (MKL
  /// threads the larger ones, and blocks the largest for the caches better), where the CPU
  /// has AVX2 and FMA and the call is not transposed twice; MKL otherwise. Depends only on the
  /// shapes, the thread count and the CPU, so a run is
  /// reproducible on one machine.
  kAuto,
  kMkl,  ///< MKL's sgemm always (or ATen's mm where the torch has no MKL)
};

/// Process-wide, kAuto unless the environment sets VECSAC_CPU_GEMM=mkl (for comparing whole
/// training runs); the benchmarks compare the two in one run. Not thread-safe to change
/// while gemm() runs.
void set_cpu_gemm(CpuGemm backend);
CpuGemm cpu_gemm_backend();

/// True when this CPU can run our kernels (AVX2 and FMA).
bool own_gemm_supported();

/// Runs `g` (batch members one after another) with our kernels and returns true, or
/// returns false without touching anything when kAuto would give it to MKL.
bool own_cpu_gemm(const Gemm& g);

}  // namespace vecsac
