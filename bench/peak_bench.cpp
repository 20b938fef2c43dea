/// @brief The CPU's own FMA peak: the ceiling that every FLOP/s figure of vecsac_bench (and of
/// the peers) is read against. An update that runs its GEMMs near this has no per-op cost
/// left to remove; only fewer FLOPs would make it faster.
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <thread>
#include <vector>

#include "vecsac/nn/cpu_gemm.h"

namespace vecsac::bench {
namespace {

constexpr int kChains = 12;  // independent FMAs in flight: more than latency x throughput

// `iterations` rounds of kChains independent 8-wide FMAs; returns a value the compiler
// must compute.
__attribute__((target("avx2,fma"))) float fma_loop(int64_t iterations) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(0.001f * i);
  const __m256 x = _mm256_set1_ps(0.9999f), y = _mm256_set1_ps(1e-4f);
  for (int64_t t = 0; t < iterations; ++t) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm256_add_ps(sum, acc[i]);
  return _mm256_cvtss_f32(sum);
}

// FLOP/s of the FMA loop on state.range(0) threads at once (one std::thread each, so the
// figure does not depend on the OpenMP runtime's settings).
void BM_FmaPeak_Cpu(benchmark::State& state) {
  if (!own_gemm_supported()) {
    state.SkipWithError("no AVX2/FMA on this CPU");
    return;
  }
  const int threads = static_cast<int>(state.range(0));
  constexpr int64_t kIterations = 1 << 22;
  std::vector<float> sink(threads);
  for (auto _ : state) {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&sink, t] { sink[t] = fma_loop(kIterations); });
    }
    for (std::thread& w : workers) w.join();
    benchmark::DoNotOptimize(sink.data());
  }
  state.counters["FLOP/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * threads * kIterations * kChains * 16,
      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FmaPeak_Cpu)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vecsac::bench
