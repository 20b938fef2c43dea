/// @brief The ISA-specific half of own_cpu_gemm: one planned batch member's rows, run by the
/// kernels of one vector unit (AVX-512 or AVX2+FMA), each compiled in a translation unit of
/// its own with that unit's flags and chosen at run time.
///
/// Every variant computes each element of C as the same chain of FMAs over k in order (the
/// narrow dot kernels keep 8-lane sums in every variant), so they agree bit for bit: a run's
/// numbers do not depend on which vector unit the CPU has.
#pragma once

#include <cstdint>

namespace vecsac::cpu_gemm_detail {

/// A(i, k) = a[i * ra + k * ca]: ra = lda, ca = 1 for A as stored, the reverse for its
/// transpose. B is row-major [k, n] with leading dimension ldb (a transposed B is packed
/// first), or [n, k] for the narrow dot kernel; C row-major [m, n].
struct Operands {
  const float* a;
  int64_t ra, ca;
  const float* b;
  int64_t ldb;
  float* c;
  int64_t ldc;
  float beta;
  bool relu;
};

/// One batch member, ready to run: which kernel, on which operands.
struct Member {
  enum Kind { kWide, kDot, kAxpy } kind;
  Operands o;
};

/// Rows per register block of each kernel kind: a row range handed to a thread starts at a
/// multiple of it.
struct RowBlocks {
  int64_t wide, narrow;
};

/// Rows [i0, i1) of member `p` (C is [m, n], the sum over k).
using RunRows = void (*)(const Member& p, int64_t i0, int64_t i1, int64_t n, int64_t k);

/// out ([cols, rows], dense) = x ([rows, cols], leading dimension ld) transposed: how a
/// transposed B is packed for the wide kernel.
using Transpose = void (*)(const float* x, int64_t rows, int64_t cols, int64_t ld, float* out);

void run_rows_avx2(const Member& p, int64_t i0, int64_t i1, int64_t n, int64_t k);
void transpose_avx2(const float* x, int64_t rows, int64_t cols, int64_t ld, float* out);
inline constexpr RowBlocks kAvx2Blocks{6, 24};
void run_rows_avx512(const Member& p, int64_t i0, int64_t i1, int64_t n, int64_t k);
void transpose_avx512(const float* x, int64_t rows, int64_t cols, int64_t ld, float* out);
inline constexpr RowBlocks kAvx512Blocks{8, 48};

}  // namespace vecsac::cpu_gemm_detail
