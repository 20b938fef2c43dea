/// @brief own_cpu_gemm: register-blocked AVX2/FMA kernels for SAC's small GEMMs.
///
/// Why not MKL alone: at SAC's shapes (batch 100-1024, widths 1-256) a GEMM is a few
/// microseconds, and MKL's fixed costs (packing, dispatch, its threading checks) are a large
/// part of that; for outputs one or two columns wide (the critics' and the actor's heads) it
/// ran at 2-13 GFLOP/s here. These kernels read the operands in place (packing only a
/// transposed B), keep a 6x16 block of C in registers, and give the heads kernels of their
/// own. A call's rows are split among the CPU threads, but each output element sums over k
/// in one fixed order on one thread, so results do not depend on the thread count.
#include "vecsac/nn/cpu_gemm.h"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace vecsac {
namespace {

// VECSAC_CPU_GEMM=mkl sends every CPU GEMM to MKL: to compare the two on a whole training run.
CpuGemm initial_backend() {
  const char* env = std::getenv("VECSAC_CPU_GEMM");
  return env != nullptr && std::string(env) == "mkl" ? CpuGemm::kMkl : CpuGemm::kAuto;
}
CpuGemm g_backend = initial_backend();

// Above this many FLOPs per member MKL's cache blocking wins (a 256 x 256 weight gradient
// over a batch of 4096 ran 10 % slower here than in MKL), and MKL threads the call itself.
// Per member, not per call: a population's K agents are members of one call, and each must
// be computed by the kernel its single run uses (the two round differently).
constexpr double kBlockedFlops = 64e6;
// Below both of these a call runs on one thread: an OpenMP fork and join costs a few
// microseconds, what ~100 kFLOP take on one core, or writing ~16k floats of C (the outer
// products of a head's input gradient are that: k = 1, memory-bound).
constexpr double kThreadedFlops = 2e5;
constexpr int64_t kThreadedOutputs = 16384;
constexpr int kMr = 6;  // rows of C per micro-kernel: 12 accumulators + 2 B vectors + 1 A

#define VECSAC_AVX2 __attribute__((target("avx2,fma")))

// A(i, k) = a[i * ra + k * ca]: ra = lda, ca = 1 for A as stored, the reverse for its
// transpose. B is row-major [k, n] with leading dimension ldb here (a transposed B is packed
// first), or [n, k] for the narrow dot kernel; C row-major [m, n].
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

VECSAC_AVX2 inline __m256i tail_mask(int64_t count) {
  alignas(32) static const int32_t ramp[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                               0,  0,  0,  0,  0,  0,  0,  0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ramp + 8 - count));
}

// max(0, v) with NaN kept: maxps returns its second operand when either is NaN.
VECSAC_AVX2 inline __m256 relu8(__m256 v) { return _mm256_max_ps(_mm256_setzero_ps(), v); }
inline float relu1(float v) { return v < 0.0f ? 0.0f : v; }

// The epilogue of one register of C: beta C (never read for beta 0: C may hold NaN), ReLU.
VECSAC_AVX2 inline __m256 finish(__m256 acc, const Operands& o, __m256 c_old) {
  if (o.beta != 0.0f) acc = _mm256_fmadd_ps(_mm256_set1_ps(o.beta), c_old, acc);
  return o.relu ? relu8(acc) : acc;
}

// C[0:MR, 0:16] = A[0:MR, :] B[:, 0:16] (+ beta C).
template <int MR>
VECSAC_AVX2 inline void block16(int64_t k_len, const Operands& o, int64_t i, int64_t j) {
  __m256 lo[MR], hi[MR];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) lo[r] = hi[r] = _mm256_setzero_ps();
  const float* a = o.a + i * o.ra;
  const float* b = o.b + j;
  for (int64_t k = 0; k < k_len; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b + k * o.ldb), b1 = _mm256_loadu_ps(b + k * o.ldb + 8);
    const float* ak = a + k * o.ca;
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m256 av = _mm256_broadcast_ss(ak + r * o.ra);
      lo[r] = _mm256_fmadd_ps(av, b0, lo[r]);
      hi[r] = _mm256_fmadd_ps(av, b1, hi[r]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    float* c = o.c + (i + r) * o.ldc + j;
    const bool read = o.beta != 0.0f;
    _mm256_storeu_ps(c, finish(lo[r], o, read ? _mm256_loadu_ps(c) : lo[r]));
    _mm256_storeu_ps(c + 8, finish(hi[r], o, read ? _mm256_loadu_ps(c + 8) : hi[r]));
  }
}

// The same for 1-8 columns, through a mask.
template <int MR>
VECSAC_AVX2 inline void block8(int64_t k_len, const Operands& o, int64_t i, int64_t j,
                               int64_t cols) {
  const __m256i mask = tail_mask(cols);
  __m256 acc[MR];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) acc[r] = _mm256_setzero_ps();
  const float* a = o.a + i * o.ra;
  const float* b = o.b + j;
  for (int64_t k = 0; k < k_len; ++k) {
    const __m256 b0 = _mm256_maskload_ps(b + k * o.ldb, mask);
    const float* ak = a + k * o.ca;
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(ak + r * o.ra), b0, acc[r]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    float* c = o.c + (i + r) * o.ldc + j;
    const __m256 old = o.beta != 0.0f ? _mm256_maskload_ps(c, mask) : acc[r];
    _mm256_maskstore_ps(c, mask, finish(acc[r], o, old));
  }
}

template <int MR>
VECSAC_AVX2 void row_block(int64_t n, int64_t k, const Operands& o, int64_t i) {
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) block16<MR>(k, o, i, j);
  for (; j < n; j += 8) block8<MR>(k, o, i, j, std::min<int64_t>(8, n - j));
}

template <int MR>
struct RowBlock {
  static void run(int64_t n, int64_t k, const Operands& o, int64_t i) { row_block<MR>(n, k, o, i); }
};

VECSAC_AVX2 inline float horizontal_sum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

inline void store1(const Operands& o, int64_t i, int64_t j, float v) {
  float* c = o.c + i * o.ldc + j;
  if (o.beta != 0.0f) v += o.beta * *c;
  *c = o.relu ? relu1(v) : v;
}

// Rows [i, i + R) of the narrow dot kernel below.
template <int N, int R>
VECSAC_AVX2 inline void dot_rows(int64_t i, int64_t k, const Operands& o) {
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
    const __m256i mask = tail_mask(k - k8);
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

// N < 8 columns, A rows contiguous (ca = 1): each C(i, j) for i in [i0, i1) a dot product
// of A's row i with B's column j, which o.b holds contiguously ([n, k], leading dimension
// o.ldb). Several rows at a time, so that their FMA chains hide the FMA's latency (one row
// of a head is only k / 8 dependent FMAs).
template <int N>
VECSAC_AVX2 void narrow_dot(int64_t i0, int64_t i1, int64_t k, const Operands& o) {
  constexpr int RB = N <= 2 ? 4 : N <= 4 ? 2 : 1;
  int64_t i = i0;
  for (; i + RB <= i1; i += RB) dot_rows<N, RB>(i, k, o);
  for (; i < i1; ++i) dot_rows<N, 1>(i, k, o);
}

// acc[v][j] += A(p, i + 8v : i + 8v + 8) B(p, j) for the axpy kernel below.
template <int N, int RB>
VECSAC_AVX2 inline void axpy_step(__m256 (&acc)[RB][N], const __m256i (&mask)[RB], int64_t i,
                                  int64_t p, const Operands& o) {
#pragma GCC unroll 4
  for (int v = 0; v < RB; ++v) {
    const __m256 av = _mm256_maskload_ps(o.a + p * o.ca + i + 8 * v, mask[v]);
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) {
      acc[v][j] = _mm256_fmadd_ps(av, _mm256_broadcast_ss(o.b + p * o.ldb + j), acc[v][j]);
    }
  }
}

// N < 8 columns, A transposed (ra = 1: its columns contiguous in i): 8 * RB rows of C at a
// time, each step adding A's row-k slice times B(k, j). Even and odd k go to separate
// accumulators (added at the end, a fixed order), so that 2 * RB * N chains hide the FMA's
// latency over the long k (the batch) of a head's weight gradient.
template <int N>
VECSAC_AVX2 void narrow_axpy(int64_t i0, int64_t i1, int64_t k, const Operands& o) {
  constexpr int RB = N <= 2 ? 3 : 1;
  for (int64_t i = i0; i < i1; i += 8 * RB) {
    __m256i mask[RB];
    int64_t rows[RB];
#pragma GCC unroll 4
    for (int v = 0; v < RB; ++v) {
      rows[v] = std::clamp<int64_t>(i1 - i - 8 * v, 0, 8);
      mask[v] = tail_mask(rows[v]);
    }
    __m256 even[RB][N], odd[RB][N];
#pragma GCC unroll 4
    for (int v = 0; v < RB; ++v) {
#pragma GCC unroll 8
      for (int j = 0; j < N; ++j) even[v][j] = odd[v][j] = _mm256_setzero_ps();
    }
    int64_t p = 0;
    for (; p + 2 <= k; p += 2) {
      axpy_step<N, RB>(even, mask, i, p, o);
      axpy_step<N, RB>(odd, mask, i, p + 1, o);
    }
    if (p < k) axpy_step<N, RB>(even, mask, i, p, o);
    alignas(32) float out[8];
#pragma GCC unroll 4
    for (int v = 0; v < RB; ++v) {
#pragma GCC unroll 8
      for (int j = 0; j < N; ++j) {
        _mm256_store_ps(out, _mm256_add_ps(even[v][j], odd[v][j]));
        for (int64_t r = 0; r < rows[v]; ++r) store1(o, i + 8 * v + r, j, out[r]);
      }
    }
  }
}

// Kernel<c>::run(args...) for the c in 1..C that equals n: the column (or row) count is a
// template argument, so each kernel's accumulators are registers rather than a stack array.
template <template <int> class Kernel, int... C, typename... Args>
void dispatch(std::integer_sequence<int, C...>, int64_t n, Args... args) {
  (void)((n == C + 1 ? (Kernel<C + 1>::run(args...), true) : false) || ...);
}
template <template <int> class Kernel, typename... Args>
void by_columns(int64_t n, Args... args) {
  dispatch<Kernel>(std::make_integer_sequence<int, 7>{}, n, args...);
}
template <int N>
struct NarrowDot {
  static void run(int64_t i0, int64_t i1, int64_t k, const Operands& o) {
    narrow_dot<N>(i0, i1, k, o);
  }
};
template <int N>
struct NarrowAxpy {
  static void run(int64_t i0, int64_t i1, int64_t k, const Operands& o) {
    narrow_axpy<N>(i0, i1, k, o);
  }
};

// Rows [i0, i1) of C, i0 a multiple of kMr; the last partial block runs a smaller kernel.
void wide(int64_t i0, int64_t i1, int64_t n, int64_t k, const Operands& o) {
  int64_t i = i0;
  for (; i + kMr <= i1; i += kMr) row_block<kMr>(n, k, o, i);
  dispatch<RowBlock>(std::make_integer_sequence<int, kMr - 1>{}, i1 - i, n, k, o, i);
}

// One batch member, ready to run: which kernel, on which operands.
struct Member {
  enum Kind { kWide, kDot, kAxpy } kind;
  Operands o;
};

// Packs `x` ([rows, cols], leading dimension ld) transposed into `out` ([cols, rows], dense).
void transpose_into(const float* x, int64_t rows, int64_t cols, int64_t ld, float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) out[c * rows + r] = x[r * ld + c];
  }
}

// Chooses member e's kernel; a B that the kernel needs transposed is packed into `scratch`
// (n * k floats), on the calling thread, before any row runs.
Member plan(const Gemm& g, int64_t e, float* scratch) {
  const float* a = g.a + e * g.stride_a;
  const float* b = g.b + e * g.stride_b;
  float* c = g.c + e * g.stride_c;
  const int64_t n = g.n, k = g.k;
  if (n < 8 && !g.trans_a) {  // B's columns, contiguous: a transposed B already has them
    if (!g.trans_b) transpose_into(b, k, n, g.ldb, scratch);
    return {
        Member::kDot,
        {a, g.lda, 1, g.trans_b ? b : scratch, g.trans_b ? g.ldb : k, c, g.ldc, g.beta, g.relu}};
  }
  if (n < 8 && !g.trans_b) {
    return {Member::kAxpy, {a, 1, g.lda, b, g.ldb, c, g.ldc, g.beta, g.relu}};
  }
  // [n, k] -> [k, n]: the micro-kernel reads 16 columns of a row at once.
  if (g.trans_b) transpose_into(b, n, k, g.ldb, scratch);
  return {Member::kWide,
          {a, g.trans_a ? 1 : g.lda, g.trans_a ? g.lda : 1, g.trans_b ? scratch : b,
           g.trans_b ? n : g.ldb, c, g.ldc, g.beta, g.relu}};
}

void run_rows(const Member& p, int64_t i0, int64_t i1, int64_t n, int64_t k) {
  switch (p.kind) {
    case Member::kWide:
      wide(i0, i1, n, k, p.o);
      return;
    case Member::kDot:
      by_columns<NarrowDot>(n, i0, i1, k, p.o);
      return;
    case Member::kAxpy:
      by_columns<NarrowAxpy>(n, i0, i1, k, p.o);
      return;
  }
}

// The packed operands of one call, which grow to the largest call and are then reused.
float* scratch(int64_t floats) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < static_cast<size_t>(floats)) buffer.resize(static_cast<size_t>(floats));
  return buffer.data();
}

}  // namespace

void set_cpu_gemm(CpuGemm backend) { g_backend = backend; }
CpuGemm cpu_gemm_backend() { return g_backend; }

bool own_gemm_supported() {
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return supported;
}

// HOT LOOP BEGIN: every gradient step runs these (tools/check_hot_loop.sh)
bool own_cpu_gemm(const Gemm& g) {
  if (g_backend != CpuGemm::kAuto || !own_gemm_supported()) return false;
  if (g.trans_a && g.trans_b) return false;  // no caller needs it: MKL's
  const double member_flops = 2.0 * static_cast<double>(g.m) * g.n * g.k;
  if (member_flops > kBlockedFlops) return false;
  const double flops = member_flops * static_cast<double>(g.batch);
  float* packed = scratch(g.batch * g.n * g.k);
  // A local reference: the worker threads below must read the caller's plans, not their own.
  thread_local std::vector<Member> plans;  // grows to the largest ensemble once
  std::vector<Member>& members = plans;
  members.resize(static_cast<size_t>(g.batch));
  for (int64_t e = 0; e < g.batch; ++e) members[e] = plan(g, e, packed + e * g.n * g.k);
  // Each member's rows in `parts` ranges of whole row blocks of its kernel, so that every
  // thread gets work when members are fewer than threads. Which rows share a range does not
  // change any element's sum.
  const bool small = flops < kThreadedFlops && g.m * g.n * g.batch < kThreadedOutputs;
  const int threads = small ? 1 : at::get_num_threads();
  const int64_t step = members[0].kind == Member::kWide ? kMr : 24;
  const int64_t blocks = (g.m + step - 1) / step;
  // Enough ranges per member that every thread gets work, and (rows permitting) a task count
  // that the threads divide: 5 agents' actors on 2 threads as 10 halves, not 3 + 2 members.
  int64_t parts = std::min<int64_t>(blocks, (threads + g.batch - 1) / g.batch);
  while (parts < blocks && (g.batch * parts) % threads != 0) ++parts;
  const int64_t per_part = (blocks + parts - 1) / parts * step;
  const auto run = [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t i0 = (t % parts) * per_part;
      run_rows(members[t / parts], i0, std::min(g.m, i0 + per_part), g.n, g.k);
    }
  };
  if (threads == 1) {
    run(0, g.batch * parts);
  } else {
    at::parallel_for(0, g.batch * parts, 1, run);
  }
  return true;
}
// HOT LOOP END

}  // namespace vecsac
