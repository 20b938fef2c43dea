/// @brief Env step throughput on CPU and CUDA, beside a plain memory copy of the same traffic.
///
/// Report speed as a ratio to BM_CopyReference at the same N, from one run:
///   build/vecsac_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include <string>

#include "vecsac/env/vec_env.h"

#ifdef VECSAC_WITH_CUDA
#include <c10/cuda/CUDAStream.h>

#include "vecsac/detail/cuda_check.h"
#endif

namespace vecsac {
namespace {

// Bytes one point-mass (dim 1) env step moves between memory and the core when
// no episode ends: reads state (8), action (4), elapsed (4), episode return (8);
// writes state (8), next obs (8), obs (8), reward (4), terminated (1),
// truncated (1), elapsed (4), episode return (8).
constexpr int64_t kPointMassStepBytes = 24 + 42;

const int64_t kSizes[] = {1, 64, 4096, 65536};

void env_step_cpu(benchmark::State& state, EnvId id) {
  const int64_t n = state.range(0);
  VecEnv env(EnvParams{id, 1, 200, 0}, n, c10::Device(c10::kCPU));
  const at::Tensor actions = at::rand({n, env.act_dim()}) * 4.0 - 2.0;
  for (auto _ : state) {
    const StepResult r = env.step(actions);
    benchmark::DoNotOptimize(r.reward.data_ptr<float>());
  }
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

void env_step_cuda(benchmark::State& state, EnvId id) {
#ifdef VECSAC_WITH_CUDA
  if (!at::hasCUDA() || at::getNumGPUs() == 0) {
    state.SkipWithError("no CUDA GPU visible: CUDA variant compiled, not run");
    return;
  }
  const int64_t n = state.range(0);
  const c10::Device dev(c10::kCUDA, 0);
  VecEnv env(EnvParams{id, 1, 200, 0}, n, dev);
  const at::Tensor actions = (at::rand({n, env.act_dim()}) * 4.0 - 2.0).to(dev);
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream(0).stream();
  cudaEvent_t start, stop;
  VECSAC_CUDA_CHECK(cudaEventCreate(&start));
  VECSAC_CUDA_CHECK(cudaEventCreate(&stop));
  env.step(actions);  // warm-up: module load, first launch
  VECSAC_CUDA_CHECK(cudaStreamSynchronize(stream));
  for (auto _ : state) {
    VECSAC_CUDA_CHECK(cudaEventRecord(start, stream));
    env.step(actions);
    VECSAC_CUDA_CHECK(cudaEventRecord(stop, stream));
    VECSAC_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0.0f;
    VECSAC_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    state.SetIterationTime(ms / 1e3);
  }
  VECSAC_CUDA_CHECK(cudaEventDestroy(start));
  VECSAC_CUDA_CHECK(cudaEventDestroy(stop));
  state.SetItemsProcessed(state.iterations() * n);
  if (id == EnvId::kPointMass)
    state.SetBytesProcessed(state.iterations() * n * kPointMassStepBytes);
#else
  (void)id;
  state.SkipWithError("vecsac built with VECSAC_CUDA=OFF");
#endif
}

void sizes(benchmark::internal::Benchmark* b) {
  for (int64_t n : kSizes) b->Arg(n);
}

BENCHMARK_CAPTURE(env_step_cpu, PointMass, EnvId::kPointMass)
    ->Name("BM_EnvStep_PointMass_Cpu")
    ->Apply(sizes);
BENCHMARK_CAPTURE(env_step_cpu, Pendulum, EnvId::kPendulum)
    ->Name("BM_EnvStep_Pendulum_Cpu")
    ->Apply(sizes);
BENCHMARK(copy_reference)->Name("BM_CopyReference")->Apply(sizes);
BENCHMARK_CAPTURE(env_step_cuda, PointMass, EnvId::kPointMass)
    ->Name("BM_EnvStep_PointMass_Cuda")
    ->UseManualTime()
    ->Apply(sizes);
BENCHMARK_CAPTURE(env_step_cuda, Pendulum, EnvId::kPendulum)
    ->Name("BM_EnvStep_Pendulum_Cuda")
    ->UseManualTime()
    ->Apply(sizes);

}  // namespace
}  // namespace vecsac

int main(int argc, char** argv) {
  benchmark::AddCustomContext("torch_threads", std::to_string(at::get_num_threads()));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
