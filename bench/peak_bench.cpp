/// @brief The CPU's ceilings that every FLOP/s figure of vecsac_bench (and of the peers) is read
/// against: what the cores really reach on one large GEMM (MKL's sgemm on the update's
/// threads), and an FMA loop for each vector unit the CPU has, which shows whether that unit
/// runs at full width.
///
/// The sgemm is the ceiling the docs quote ("of the peak"): it is what a BLAS attains, so an
/// update near it has no per-op cost left to remove. The FMA loops bound it from above; on a
/// CPU whose AVX-512 runs at full width the AVX-512 loop reaches about twice the AVX2 one.
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <string>
#include <thread>
#include <vector>

#include "vecsac/nn/cpu_gemm.h"
#include "vecsac/nn/gemm.h"
#include "vecsac/util/cpu_pool.h"

namespace vecsac::bench {
namespace {

// Independent FMA chains per thread: more than latency (4 cycles) x FMA pipes (2) on every
// x86 core we run on, and few enough that the chains and the two constants stay in registers
// (16 vector registers with AVX2, 32 with AVX-512): a chain spilled to the stack is bound by
// store forwarding (a 16-chain AVX2 loop that spilled three ran at 60 % of the 12-chain one).
constexpr int kAvx2Chains = 12;
constexpr int kAvx512Chains = 24;

// `iterations` rounds of CHAINS independent FMAs of one vector type; returns a value the
// compiler must compute (multiplying by 1 - 1e-4 and adding 1e-4 keeps the values normal). A
// macro, as each unit's loop must be compiled for that unit (a template would be compiled
// for the CPU baseline and call the intrinsics out of line).
#define VECSAC_FMA_LOOP(NAME, TARGET, CHAINS, VEC, SET1, FMA, ADD, FIRST)                       \
  __attribute__((target(TARGET))) float NAME(int64_t iterations) {                              \
    VEC acc[CHAINS];                                                                            \
    for (int i = 0; i < CHAINS; ++i) acc[i] = SET1(0.001f * i);                                 \
    const VEC x = SET1(0.9999f), y = SET1(1e-4f);                                               \
    for (int64_t t = 0; t < iterations; ++t) {                                                  \
      _Pragma("GCC unroll 32") for (int i = 0; i < CHAINS; ++i) { acc[i] = FMA(acc[i], x, y); } \
    }                                                                                           \
    VEC sum = acc[0];                                                                           \
    for (int i = 1; i < CHAINS; ++i) sum = ADD(sum, acc[i]);                                    \
    return FIRST(sum);                                                                          \
  }
VECSAC_FMA_LOOP(fma_loop_avx2, "avx2,fma", kAvx2Chains, __m256, _mm256_set1_ps, _mm256_fmadd_ps,
                _mm256_add_ps, _mm256_cvtss_f32)
VECSAC_FMA_LOOP(fma_loop_avx512, "avx512f,avx2,fma", kAvx512Chains, __m512, _mm512_set1_ps,
                _mm512_fmadd_ps, _mm512_add_ps, _mm512_cvtss_f32)
#undef VECSAC_FMA_LOOP

// FLOP/s of an FMA loop of `lanes` lanes on state.range(0) threads at once (one std::thread
// each, so the figure does not depend on any pool's settings).
void fma_peak(benchmark::State& state, CpuGemm unit, float (*loop)(int64_t), int lanes,
              int chains) {
  if (!cpu_gemm_supported(unit)) {
    state.SkipWithError((std::string("this CPU has no ") + cpu_gemm_name(unit)).c_str());
    return;
  }
  const int threads = static_cast<int>(state.range(0));
  constexpr int64_t kIterations = 1 << 22;
  std::vector<float> sink(threads);
  for (auto _ : state) {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&sink, t, loop] { sink[t] = loop(kIterations); });
    }
    for (std::thread& w : workers) w.join();
    benchmark::DoNotOptimize(sink.data());
  }
  state.counters["FLOP/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * threads * kIterations * chains * lanes * 2,
      benchmark::Counter::kIsRate);
}
void BM_FmaPeakAvx512_Cpu(benchmark::State& state) {
  fma_peak(state, CpuGemm::kAvx512, fma_loop_avx512, 16, kAvx512Chains);
}
void BM_FmaPeakAvx2_Cpu(benchmark::State& state) {
  fma_peak(state, CpuGemm::kAvx2, fma_loop_avx2, 8, kAvx2Chains);
}
BENCHMARK(BM_FmaPeakAvx512_Cpu)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FmaPeakAvx2_Cpu)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// MKL's sgemm, C = A B at 2048^3 (34 GFLOP a call: far past every per-call cost), on
// state.range(0) threads: MKL's threads, the count vecsac's pool and torch are set to.
void BM_SgemmPeak_Cpu(benchmark::State& state) {
  constexpr int64_t kN = 2048;
  const int threads = static_cast<int>(state.range(0));
  const int threads_before = cpu_threads();
  const std::string origin_before = cpu_threads_origin();
  const CpuGemm backend_before = cpu_gemm_backend();
  set_cpu_threads(threads, "the benchmark");
  set_cpu_gemm(CpuGemm::kMkl);
  std::vector<float> a(kN * kN, 0.5f), b(kN * kN, 0.25f), c(kN * kN);
  Gemm g;
  g.m = g.n = g.k = kN;
  g.a = a.data(), g.lda = kN;
  g.b = b.data(), g.ldb = kN;
  g.c = c.data(), g.ldc = kN;
  gemm(g, c10::Device(c10::kCPU));  // MKL's first call allocates and initialises its buffers
  for (auto _ : state) {
    gemm(g, c10::Device(c10::kCPU));
    benchmark::DoNotOptimize(c.data());
  }
  set_cpu_gemm(backend_before);
  set_cpu_threads(threads_before, origin_before);
  state.counters["FLOP/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * 2.0 * kN * kN * kN, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SgemmPeak_Cpu)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vecsac::bench
