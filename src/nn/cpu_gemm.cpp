/// @brief own_cpu_gemm: register-blocked AVX2/FMA kernels for SAC's small GEMMs.
///
/// Why not MKL alone: at SAC's shapes (batch 100-1024, widths 1-256) a GEMM is a few
/// microseconds, and MKL's fixed costs (packing, dispatch, its threading checks) are a large
/// part of that; for outputs one or two columns wide (the critics' and the actor's heads) it
/// ran at 2-13 GFLOP/s here. These kernels read the operands in place (packing only a
/// transposed B), keep a 6x16 block of C in registers, and give the heads kernels of their
/// own. Each output element sums over k in one fixed order, so results do not depend on
/// the thread count.
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

// With more than one thread, calls above this many FLOPs go to MKL, which threads them;
// above the second, MKL's cache blocking wins even on one (a 256 x 256 weight gradient
// over a batch of 4096 ran 10 % slower here than in MKL).
constexpr double kThreadedFlops = 4e6;
constexpr double kBlockedFlops = 64e6;
constexpr int kMr = 6;  // rows of C per micro-kernel: 12 accumulators + 2 B vectors + 1 A

#define VECSAC_AVX2 __attribute__((target("avx2,fma")))

// A(i, k) = a[i * ra + k * ca]: ra = lda, ca = 1 for A as stored, the reverse for its
// transpose. B is row-major [k, n] with leading dimension ldb here (a transposed B is packed
// first); C row-major [m, n].
struct Operands {
  const float* a;
  int64_t ra, ca;
  const float* b;
  int64_t ldb;
  float* c;
  int64_t ldc;
  float beta;
};

VECSAC_AVX2 inline __m256i tail_mask(int64_t count) {
  alignas(32) static const int32_t ramp[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                               0,  0,  0,  0,  0,  0,  0,  0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ramp + 8 - count));
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
    if (o.beta != 0.0f) {  // beta 0 must not read C, which may hold NaN
      const __m256 beta = _mm256_set1_ps(o.beta);
      lo[r] = _mm256_fmadd_ps(beta, _mm256_loadu_ps(c), lo[r]);
      hi[r] = _mm256_fmadd_ps(beta, _mm256_loadu_ps(c + 8), hi[r]);
    }
    _mm256_storeu_ps(c, lo[r]);
    _mm256_storeu_ps(c + 8, hi[r]);
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
    if (o.beta != 0.0f) {
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(o.beta), _mm256_maskload_ps(c, mask), acc[r]);
    }
    _mm256_maskstore_ps(c, mask, acc[r]);
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

void wide(int64_t m, int64_t n, int64_t k, const Operands& o);

VECSAC_AVX2 inline float horizontal_sum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

// N < 8 columns, A rows contiguous: each C(i, j) a dot product of A's row i with B's
// column j, which `bt` holds contiguously ([n, k] with leading dimension ldbt).
template <int N>
VECSAC_AVX2 void narrow_dot(int64_t m, int64_t k, const float* a, int64_t lda, const float* bt,
                            int64_t ldbt, float* c, int64_t ldc, float beta) {
  const int64_t k8 = k - k % 8;
  const __m256i mask = tail_mask(k - k8);
  for (int64_t i = 0; i < m; ++i) {
    const float* ai = a + i * lda;
    __m256 acc[N];
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) acc[j] = _mm256_setzero_ps();
    for (int64_t p = 0; p < k8; p += 8) {
      const __m256 av = _mm256_loadu_ps(ai + p);
#pragma GCC unroll 8
      for (int j = 0; j < N; ++j) {
        acc[j] = _mm256_fmadd_ps(av, _mm256_loadu_ps(bt + j * ldbt + p), acc[j]);
      }
    }
    if (k8 < k) {
      const __m256 av = _mm256_maskload_ps(ai + k8, mask);
#pragma GCC unroll 8
      for (int j = 0; j < N; ++j) {
        acc[j] = _mm256_fmadd_ps(av, _mm256_maskload_ps(bt + j * ldbt + k8, mask), acc[j]);
      }
    }
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) {
      float v = horizontal_sum(acc[j]);
      if (beta != 0.0f) v += beta * c[i * ldc + j];
      c[i * ldc + j] = v;
    }
  }
}

// N < 8 columns, A transposed (its columns contiguous in i): 8 rows of C at a time, each
// step adding A's row-k slice times B(k, j).
template <int N>
VECSAC_AVX2 void narrow_axpy(int64_t m, int64_t k, const float* a, int64_t lda, const float* b,
                             int64_t ldb, float* c, int64_t ldc, float beta) {
  for (int64_t i = 0; i < m; i += 8) {
    const int64_t rows = std::min<int64_t>(8, m - i);
    const __m256i mask = tail_mask(rows);
    __m256 acc[N];
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) acc[j] = _mm256_setzero_ps();
    for (int64_t p = 0; p < k; ++p) {
      const __m256 av = _mm256_maskload_ps(a + p * lda + i, mask);
#pragma GCC unroll 8
      for (int j = 0; j < N; ++j) {
        acc[j] = _mm256_fmadd_ps(av, _mm256_broadcast_ss(b + p * ldb + j), acc[j]);
      }
    }
    alignas(32) float out[8];
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) {
      _mm256_store_ps(out, acc[j]);
      for (int64_t r = 0; r < rows; ++r) {
        float v = out[r];
        if (beta != 0.0f) v += beta * c[(i + r) * ldc + j];
        c[(i + r) * ldc + j] = v;
      }
    }
  }
}

// Kernel<c>::run(args...) for the c in 1..7 that equals n: the column count is a template
// argument, so each kernel's accumulators are registers rather than a stack array.
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
  template <typename... Args>
  static void run(Args... args) {
    narrow_dot<N>(args...);
  }
};
template <int N>
struct NarrowAxpy {
  template <typename... Args>
  static void run(Args... args) {
    narrow_axpy<N>(args...);
  }
};

void wide(int64_t m, int64_t n, int64_t k, const Operands& o) {
  int64_t i = 0;
  for (; i + kMr <= m; i += kMr) row_block<kMr>(n, k, o, i);
  dispatch<RowBlock>(std::make_integer_sequence<int, kMr - 1>{}, m - i, n, k, o, i);
}

// `x` ([rows, cols], leading dimension ld) transposed into a scratch buffer ([cols, rows],
// dense), which grows to the largest call and then never allocates again.
const float* transposed(const float* x, int64_t rows, int64_t cols, int64_t ld) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < static_cast<size_t>(rows * cols)) {
    buffer.resize(static_cast<size_t>(rows * cols));
  }
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) buffer[c * rows + r] = x[r * ld + c];
  }
  return buffer.data();
}

// One batch member.
void member(const Gemm& g, const float* a, const float* b, float* c) {
  const int64_t m = g.m, n = g.n, k = g.k;
  if (n < 8 && !g.trans_a) {
    // B's columns, contiguous: a transposed B already has them.
    const float* bt = g.trans_b ? b : transposed(b, k, n, g.ldb);
    const int64_t ldbt = g.trans_b ? g.ldb : k;
    by_columns<NarrowDot>(n, m, k, a, g.lda, bt, ldbt, c, g.ldc, g.beta);
    return;
  }
  if (n < 8 && !g.trans_b) {
    by_columns<NarrowAxpy>(n, m, k, a, g.lda, b, g.ldb, c, g.ldc, g.beta);
    return;
  }
  // [n, k] -> [k, n]: the micro-kernel reads 16 columns of a row at once.
  const float* rb = g.trans_b ? transposed(b, n, k, g.ldb) : b;
  const int64_t ldb = g.trans_b ? n : g.ldb;
  const Operands o{a, g.trans_a ? 1 : g.lda, g.trans_a ? g.lda : 1, rb, ldb, c, g.ldc, g.beta};
  wide(m, n, k, o);
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
  const double flops = 2.0 * static_cast<double>(g.m) * g.n * g.k * g.batch;
  if (flops > kBlockedFlops || (flops > kThreadedFlops && at::get_num_threads() > 1)) {
    return false;
  }
  for (int64_t e = 0; e < g.batch; ++e) {
    member(g, g.a + e * g.stride_a, g.b + e * g.stride_b, g.c + e * g.stride_c);
  }
  return true;
}
// HOT LOOP END

}  // namespace vecsac
