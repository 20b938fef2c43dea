/// @brief Env step throughput on CPU and CUDA, beside a plain memory copy of the same traffic.
///
/// Report speed as a ratio to BM_CopyReference at the same N, from one run:
///   build/vecsac_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <ATen/ATen.h>
#include <benchmark/benchmark.h>

#include "bench_util.h"
#include "vecsac/env/vec_env.h"

namespace vecsac::bench {
namespace {

// Bytes one point-mass (dim 1) env step moves between memory and the core when
// no episode ends: reads state (8), action (4), elapsed (4), episode return (8);
// writes state (8), next obs (8), obs (8), reward (4), terminated (1),
// truncated (1), elapsed (4), episode return (8).
constexpr int64_t kPointMassStepBytes = 24 + 42;

const std::vector<int64_t> kSizes = {1, 64, 4096, 65536};

void env_step(benchmark::State& state, EnvId id, c10::DeviceType type) {
  const auto device = device_or_skip(state, type);
  if (!device) return;
  const int64_t n = state.range(0);
  VecEnv env(EnvParams{id, 1, 200, 0}, n, *device);
  const at::Tensor actions = (at::rand({n, env.act_dim()}) * 4.0 - 2.0).to(*device);
  time_iterations(state, *device, [&] {
    const StepResult r = env.step(actions);
    benchmark::DoNotOptimize(r.reward.data_ptr<float>());
  });
  state.SetItemsProcessed(state.iterations() * n);
  if (id == EnvId::kPointMass)
    state.SetBytesProcessed(state.iterations() * n * kPointMassStepBytes);
}

// The memory-bandwidth limit for the point-mass step: copying the same number of
// bytes (half read, half written), with the same torch intra-op threads.
void copy_reference(benchmark::State& state) {
  const int64_t n = state.range(0);
  const at::Tensor src = at::randint(0, 255, {n * kPointMassStepBytes / 2}, at::kByte);
  at::Tensor dst = at::empty_like(src);
  for (auto _ : state) {
    dst.copy_(src);
    benchmark::DoNotOptimize(dst.data_ptr<uint8_t>());
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(state.iterations() * n * kPointMassStepBytes);
}

const int kRegistered[] = {
    register_cpu_and_cuda(
        "BM_EnvStep_PointMass",
        [](benchmark::State& s, c10::DeviceType t) { env_step(s, EnvId::kPointMass, t); }, kSizes),
    register_cpu_and_cuda(
        "BM_EnvStep_Pendulum",
        [](benchmark::State& s, c10::DeviceType t) { env_step(s, EnvId::kPendulum, t); }, kSizes),
};
// Wall-clock, as the env step variants (register_cpu_and_cuda).
BENCHMARK(copy_reference)
    ->Name("BM_CopyReference")
    ->UseRealTime()
    ->Apply([](benchmark::internal::Benchmark* b) {
      for (const int64_t n : kSizes) b->Arg(n);
    });

}  // namespace
}  // namespace vecsac::bench
