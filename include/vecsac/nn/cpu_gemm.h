/// @brief vecsac's own single-threaded GEMM kernels for the small shapes SAC trains with, for
/// the vector unit the CPU has (AVX-512 or AVX2+FMA), beside MKL: which one gemm() calls on
/// the CPU.
#pragma once

#include "vecsac/nn/gemm.h"

namespace vecsac {

/// Which kernels run gemm() on the CPU.
enum class CpuGemm {
  /// Ours for calls up to 64 MFLOP with 1 CPU thread and up to 4 MFLOP with more (MKL
  /// threads the larger ones, and blocks the largest for the caches better), where the call
  /// is not transposed twice, with the widest vector unit the CPU has (AVX-512 F and VL, else
  /// AVX2 and FMA); MKL otherwise. Depends only on the shapes, the thread count and the CPU, so
  /// a run is reproducible on one machine; and our variants agree bit for bit, so it is
  /// reproducible across the CPUs of ours too.
  kAuto,
  kAvx512,  ///< as kAuto, with the AVX-512 kernels
  kAvx2,    ///< as kAuto, with the AVX2+FMA kernels
  kMkl,     ///< MKL's sgemm always (or ATen's mm where the torch has no MKL)
};

/// "auto", "avx512", "avx2" or "mkl".
const char* cpu_gemm_name(CpuGemm backend);

/// Whether this CPU can run `backend` (kAuto and kMkl: always).
bool cpu_gemm_supported(CpuGemm backend);

/// Process-wide. Starts as the environment's VECSAC_CPU_GEMM (auto, avx512, avx2 or mkl: to
/// compare whole training runs), else kAuto; the benchmarks compare them in one run. Throws
/// std::invalid_argument, naming the variant and the CPU's vector units, for one this CPU
/// cannot run (and cpu_gemm_backend() for such a VECSAC_CPU_GEMM). Not thread-safe to change
/// while gemm() runs.
void set_cpu_gemm(CpuGemm backend);
CpuGemm cpu_gemm_backend();

/// The kernels our calls run under the current backend: kAvx512 or kAvx2, or kMkl where the
/// backend is MKL or the CPU has neither vector unit. For logs and benchmark contexts.
CpuGemm cpu_gemm_kernels();

/// True when this CPU can run any of our kernels (AVX2 and FMA).
bool own_gemm_supported();

/// Runs `g` (batch members one after another) with our kernels and returns true, or
/// returns false without touching anything when the backend would give it to MKL.
bool own_cpu_gemm(const Gemm& g);

}  // namespace vecsac
