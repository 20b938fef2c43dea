/// @brief The register-blocked kernels of own_cpu_gemm, written once for any vector width.
///
/// Included by exactly one translation unit per vector unit (cpu_gemm_avx2.cpp,
/// cpu_gemm_avx512.cpp), each compiled with that unit's flags; it defines that unit's
/// run_rows_<isa>. Everything else here has internal linkage and the file includes nothing
/// but intrinsics and <cstdint>: an inline function shared with other translation units could
/// be emitted with AVX-512 instructions and picked by the linker for code that runs on any CPU.
///
/// Results: each element of C is acc = 0; acc = fma(A(i, k), B(k, j), acc) for k in order;
/// then beta C and ReLU, in every kernel below but the narrow dot, whose 8-lane partial sums
/// are the same in every variant. So the variants agree bit for bit.
#ifndef VECSAC_CPU_GEMM_ISA
#error "define VECSAC_CPU_GEMM_ISA (the run_rows_ suffix) before including this file"
#endif

#include <immintrin.h>

#include <cstdint>
#include <utility>

#include "vecsac/nn/cpu_gemm_kernels.h"

namespace vecsac::cpu_gemm_detail {
namespace {

// --- The vector unit: W lanes, masks for partial vectors ------------------------------------
#if defined(__AVX512F__)
constexpr int kLanes = 16;
constexpr int kMr = kAvx512Blocks.wide;  // 8 rows x 2 vectors: 16 accumulators of 32
using Vec = __m512;
using Mask = __mmask16;
inline Vec vzero() { return _mm512_setzero_ps(); }
inline Vec vload(const float* p) { return _mm512_loadu_ps(p); }
inline Vec vload(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
inline void vstore(float* p, Vec v) { _mm512_storeu_ps(p, v); }
inline void vstore(float* p, Vec v, Mask m) { _mm512_mask_storeu_ps(p, m, v); }
inline Vec vset1(float x) { return _mm512_set1_ps(x); }
inline Vec vfma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
inline Vec vadd(Vec a, Vec b) { return _mm512_add_ps(a, b); }
// max(0, v) with NaN kept: maxps returns its second operand when either is NaN.
// (The masked form: GCC 12 warns about _mm512_max_ps's deliberately undefined operand.)
inline Vec vrelu(Vec v) {
  const Vec zero = _mm512_setzero_ps();
  return _mm512_mask_max_ps(zero, 0xffff, zero, v);
}
inline Mask first_lanes(int64_t count) {
  return static_cast<Mask>(count >= kLanes ? 0xffff : (1u << count) - 1u);
}
#else
constexpr int kLanes = 8;
constexpr int kMr = kAvx2Blocks.wide;  // 6 rows x 2 vectors: 12 accumulators of 16
using Vec = __m256;
using Mask = __m256i;
inline Vec vzero() { return _mm256_setzero_ps(); }
inline Vec vload(const float* p) { return _mm256_loadu_ps(p); }
inline Vec vload(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
inline void vstore(float* p, Vec v) { _mm256_storeu_ps(p, v); }
inline void vstore(float* p, Vec v, Mask m) { _mm256_maskstore_ps(p, m, v); }
inline Vec vset1(float x) { return _mm256_set1_ps(x); }
inline Vec vfma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
inline Vec vadd(Vec a, Vec b) { return _mm256_add_ps(a, b); }
inline Vec vrelu(Vec v) { return _mm256_max_ps(_mm256_setzero_ps(), v); }
inline Mask first_lanes(int64_t count) {
  alignas(32) static const int32_t ramp[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                               0,  0,  0,  0,  0,  0,  0,  0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ramp + 8 - (count > 8 ? 8 : count)));
}
#endif

inline int64_t clamp_rows(int64_t v, int64_t hi) { return v < 0 ? 0 : v > hi ? hi : v; }

// The epilogue of one vector of C: beta C (never read for beta 0: C may hold NaN), ReLU.
inline Vec finish(Vec acc, const Operands& o, const float* c, bool masked, Mask m) {
  if (o.beta != 0.0f) acc = vfma(vset1(o.beta), masked ? vload(c, m) : vload(c), acc);
  return o.relu ? vrelu(acc) : acc;
}

// --- The wide kernel: C[i : i + MR, j : j + NV lanes] in registers ---------------------------
// MASKED: the last of the NV vectors holds only the lanes of `last`.
template <int MR, int NV, bool MASKED>
inline void block(int64_t k_len, const Operands& o, int64_t i, int64_t j, Mask last) {
  Vec acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[r][v] = vzero();
  }
  const float* a = o.a + i * o.ra;
  const float* b = o.b + j;
  for (int64_t k = 0; k < k_len; ++k) {
    Vec bv[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      const float* bk = b + k * o.ldb + v * kLanes;
      bv[v] = MASKED && v == NV - 1 ? vload(bk, last) : vload(bk);
    }
    const float* ak = a + k * o.ca;
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const Vec av = vset1(ak[r * o.ra]);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[r][v] = vfma(av, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      float* c = o.c + (i + r) * o.ldc + j + v * kLanes;
      const bool masked = MASKED && v == NV - 1;
      const Vec out = finish(acc[r][v], o, c, masked, last);
      if (masked) {
        vstore(c, out, last);
      } else {
        vstore(c, out);
      }
    }
  }
}

// Columns [j, j + 2W) of rows [i, i + MR), or the columns left from j to n.
template <int MR>
inline void panel_block(int64_t n, int64_t k, const Operands& o, int64_t i, int64_t j) {
  const int64_t rest = n - j;
  if (rest >= 2 * kLanes) {
    block<MR, 2, false>(k, o, i, j, Mask{});
  } else if (rest > kLanes) {
    block<MR, 2, true>(k, o, i, j, first_lanes(rest - kLanes));
  } else if (rest == kLanes) {
    block<MR, 1, false>(k, o, i, j, Mask{});
  } else {
    block<MR, 1, true>(k, o, i, j, first_lanes(rest));
  }
}

// Rows [i0, i1) of C, a panel of 2W columns at a time: the panel of B (k x 2W floats, 32 KB
// at k = 256 with AVX-512) stays in L1 while every row block uses it, where a row block
// sweeping all the columns streamed the whole of B from L2 for each block. The last partial
// block of rows runs a smaller kernel.
template <int... R>
void wide_rows(std::integer_sequence<int, R...>, int64_t i0, int64_t i1, int64_t n, int64_t k,
               const Operands& o) {
  const int64_t full_end = i0 + (i1 - i0) / kMr * kMr, left = i1 - full_end;
  for (int64_t j = 0; j < n; j += 2 * kLanes) {
    for (int64_t i = i0; i < full_end; i += kMr) panel_block<kMr>(n, k, o, i, j);
    (void)((left == R + 1 ? (panel_block<R + 1>(n, k, o, full_end, j), true) : false) || ...);
  }
}

// --- Narrow outputs (n < 8): the heads ------------------------------------------------------
inline void store1(const Operands& o, int64_t i, int64_t j, float v) {
  float* c = o.c + i * o.ldc + j;
  if (o.beta != 0.0f) v += o.beta * *c;
  *c = o.relu ? (v < 0.0f ? 0.0f : v) : v;
}

// 8-lane in every variant (see the file comment): its sums' order is the lanes'.
inline __m256i tail8(int64_t count) {
  alignas(32) static const int32_t ramp[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                               0,  0,  0,  0,  0,  0,  0,  0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ramp + 8 - count));
}
inline float horizontal_sum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

// Rows [i, i + R) of the narrow dot kernel below.
template <int N, int R>
inline void dot_rows(int64_t i, int64_t k, const Operands& o) {
  const int64_t k8 = k - k % 8;
  __m256 acc[R][N];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) acc[r][j] = _mm256_setzero_ps();
  }
  for (int64_t p = 0; p < k8; p += 8) {
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) {
      const __m256 bv = _mm256_loadu_ps(o.b + j * o.ldb + p);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        acc[r][j] = _mm256_fmadd_ps(_mm256_loadu_ps(o.a + (i + r) * o.ra + p), bv, acc[r][j]);
      }
    }
  }
  if (k8 < k) {
    const __m256i mask = tail8(k - k8);
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) {
      const __m256 bv = _mm256_maskload_ps(o.b + j * o.ldb + k8, mask);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        acc[r][j] =
            _mm256_fmadd_ps(_mm256_maskload_ps(o.a + (i + r) * o.ra + k8, mask), bv, acc[r][j]);
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) store1(o, i + r, j, horizontal_sum(acc[r][j]));
  }
}

// N < 8 columns, A rows contiguous (ca = 1): each C(i, j) a dot product of A's row i with B's
// column j, which o.b holds contiguously ([n, k], leading dimension o.ldb). Several rows at a
// time, so that their FMA chains hide the FMA's latency (one row of a head is only k / 8
// dependent FMAs).
template <int N>
void narrow_dot(int64_t i0, int64_t i1, int64_t k, const Operands& o) {
  constexpr int RB = N <= 2 ? 4 : N <= 4 ? 2 : 1;
  int64_t i = i0;
  for (; i + RB <= i1; i += RB) dot_rows<N, RB>(i, k, o);
  for (; i < i1; ++i) dot_rows<N, 1>(i, k, o);
}

// acc[v][j] += A(p, i + W v : i + W v + W) B(p, j) for the axpy kernel below.
template <int N, int RB>
inline void axpy_step(Vec (&acc)[RB][N], const Mask (&mask)[RB], int64_t i, int64_t p,
                      const Operands& o) {
#pragma GCC unroll 4
  for (int v = 0; v < RB; ++v) {
    const Vec av = vload(o.a + p * o.ca + i + kLanes * v, mask[v]);
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) acc[v][j] = vfma(av, vset1(o.b[p * o.ldb + j]), acc[v][j]);
  }
}

// N < 8 columns, A transposed (ra = 1: its columns contiguous in i): W * RB rows of C at a
// time, each step adding A's row-k slice times B(k, j). Even and odd k go to separate
// accumulators (added at the end, a fixed order per element), so that 2 * RB * N chains hide
// the FMA's latency over the long k (the batch) of a head's weight gradient.
template <int N>
void narrow_axpy(int64_t i0, int64_t i1, int64_t k, const Operands& o) {
  constexpr int RB = N <= 2 ? 3 : 1;
  for (int64_t i = i0; i < i1; i += kLanes * RB) {
    Mask mask[RB];
    int64_t rows[RB];
#pragma GCC unroll 4
    for (int v = 0; v < RB; ++v) {
      rows[v] = clamp_rows(i1 - i - kLanes * v, kLanes);
      mask[v] = first_lanes(rows[v]);
    }
    Vec even[RB][N], odd[RB][N];
#pragma GCC unroll 4
    for (int v = 0; v < RB; ++v) {
#pragma GCC unroll 8
      for (int j = 0; j < N; ++j) even[v][j] = odd[v][j] = vzero();
    }
    int64_t p = 0;
    for (; p + 2 <= k; p += 2) {
      axpy_step<N, RB>(even, mask, i, p, o);
      axpy_step<N, RB>(odd, mask, i, p + 1, o);
    }
    if (p < k) axpy_step<N, RB>(even, mask, i, p, o);
    alignas(64) float out[kLanes];
#pragma GCC unroll 4
    for (int v = 0; v < RB; ++v) {
#pragma GCC unroll 8
      for (int j = 0; j < N; ++j) {
        vstore(out, vadd(even[v][j], odd[v][j]));
        for (int64_t r = 0; r < rows[v]; ++r) store1(o, i + kLanes * v + r, j, out[r]);
      }
    }
  }
}

// Kernel<c>(args...) for the c in 1..7 that equals n: the column count is a template
// argument, so each kernel's accumulators are registers rather than a stack array.
template <int... C>
void narrow(std::integer_sequence<int, C...>, const Member& p, int64_t i0, int64_t i1, int64_t n,
            int64_t k) {
  if (p.kind == Member::kDot) {
    (void)((n == C + 1 ? (narrow_dot<C + 1>(i0, i1, k, p.o), true) : false) || ...);
  } else {
    (void)((n == C + 1 ? (narrow_axpy<C + 1>(i0, i1, k, p.o), true) : false) || ...);
  }
}

// --- Packing a transposed B ------------------------------------------------------------------
// 8 x 8 tiles through registers (the classic unpack / shuffle / permute network), the edges
// element by element. Data movement only: every variant packs the same bytes.
inline void transpose8x8(const float* x, int64_t ld, float* out, int64_t out_ld) {
  __m256 r[8], t[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(x + i * ld);
#pragma GCC unroll 4
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 2
  for (int i = 0; i < 8; i += 4) {
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    _mm256_storeu_ps(out + i * out_ld, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
    _mm256_storeu_ps(out + (i + 4) * out_ld, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
  }
}

}  // namespace

#define VECSAC_CONCAT2(a, b) a##b
#define VECSAC_CONCAT(a, b) VECSAC_CONCAT2(a, b)
void VECSAC_CONCAT(run_rows_, VECSAC_CPU_GEMM_ISA)(const Member& p, int64_t i0, int64_t i1,
                                                   int64_t n, int64_t k) {
  if (p.kind == Member::kWide) {
    wide_rows(std::make_integer_sequence<int, kMr - 1>{}, i0, i1, n, k, p.o);
  } else {
    narrow(std::make_integer_sequence<int, 7>{}, p, i0, i1, n, k);
  }
}
void VECSAC_CONCAT(transpose_, VECSAC_CPU_GEMM_ISA)(const float* x, int64_t rows, int64_t cols,
                                                    int64_t ld, float* out) {
  const int64_t rows8 = rows - rows % 8, cols8 = cols - cols % 8;
  for (int64_t r = 0; r < rows8; r += 8) {
    for (int64_t c = 0; c < cols8; c += 8)
      transpose8x8(x + r * ld + c, ld, out + c * rows + r, rows);
  }
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = r < rows8 ? cols8 : 0; c < cols; ++c) out[c * rows + r] = x[r * ld + c];
  }
}
#undef VECSAC_CONCAT
#undef VECSAC_CONCAT2

}  // namespace vecsac::cpu_gemm_detail
