/// @brief What the benchmark families share: CPU/CUDA registration and timing, and the
/// point-mass training state (config, full replay buffer, learner) built once per device.
#pragma once

#include <ATen/core/Generator.h>
#include <benchmark/benchmark.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vecsac/config/config.h"
#include "vecsac/replay/replay_buffer.h"
#include "vecsac/sac/learner.h"
#include "vecsac/sac/training_parts.h"
#include "vecsac/util/seed_purpose.h"

#ifdef VECSAC_WITH_CUDA
#include <c10/cuda/CUDAStream.h>

#include "vecsac/detail/cuda_check.h"
#endif

namespace vecsac::bench {

/// The device a variant runs on, or nullopt after marking the run skipped: a
/// CUDA variant is always compiled and registered, and skips without a GPU.
std::optional<c10::Device> device_or_skip(benchmark::State& state, c10::DeviceType type);

/// Registers `fn(state, type)` as `<name>_Cpu` and `<name>_Cuda`, each with
/// `args`. Times and rates are wall-clock (CPU) or CUDA-event (GPU) seconds:
/// Google Benchmark's default, the main thread's CPU time, misses torch's other
/// intra-op threads.
template <class Fn>
int register_cpu_and_cuda(const std::string& name, Fn fn, const std::vector<int64_t>& args) {
  for (const c10::DeviceType type : {c10::kCPU, c10::kCUDA}) {
    const bool cuda = type == c10::kCUDA;
    auto* b = benchmark::RegisterBenchmark((name + (cuda ? "_Cuda" : "_Cpu")).c_str(), fn, type);
    for (const int64_t a : args) b->Arg(a);
    if (cuda) {
      b->UseManualTime();
    } else {
      b->UseRealTime();
    }
  }
  return 0;
}

/// Runs `body` once untimed (first-call allocations, CUDA module loads), then
/// once per benchmark iteration. CPU: the benchmark's wall clock. CUDA: events
/// on the current stream around each call, so the time includes any gaps where
/// the GPU waits for the host to launch work (a host-bound step is not hidden).
template <class Body>
void time_iterations(benchmark::State& state, c10::Device device, Body&& body) {
  body();
  if (device.is_cpu()) {
    for (auto _ : state) body();
    return;
  }
#ifdef VECSAC_WITH_CUDA
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream(device.index()).stream();
  cudaEvent_t start, stop;
  VECSAC_CUDA_CHECK(cudaEventCreate(&start));
  VECSAC_CUDA_CHECK(cudaEventCreate(&stop));
  VECSAC_CUDA_CHECK(cudaStreamSynchronize(stream));
  for (auto _ : state) {
    VECSAC_CUDA_CHECK(cudaEventRecord(start, stream));
    body();
    VECSAC_CUDA_CHECK(cudaEventRecord(stop, stream));
    VECSAC_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0.0f;
    VECSAC_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    state.SetIterationTime(ms / 1e3);
  }
  VECSAC_CUDA_CHECK(cudaEventDestroy(start));
  VECSAC_CUDA_CHECK(cudaEventDestroy(stop));
#endif
}

/// configs/pointmass.json, the default training run: BM_TrainIteration measures its settings.
const Config& pointmass_config();

/// configs/pendulum.json (the race against RLtools: 1 env, 64-64, batch 100) with a 10k
/// replay buffer: BM_TrainIterationPendulum measures one of its learning steps.
const Config& pendulum_config();

/// The same run with the 256-256 networks the update benchmarks are specified
/// at, whatever widths the default config trains with: update figures stay
/// comparable across config changes and with the peers' 256-256 updates.
const Config& update_config();

/// The update benchmarks' small shapes: 64-64 networks (RLtools's default SAC) on the
/// point mass.
const Config& small_config();

/// Training state on one device for one config, built on first use and then
/// shared by every family that asks for it (a 200k-transition fill per
/// benchmark run would dominate short runs). Families mutate it (inserts,
/// updates); that changes values, not costs.
struct Fixture {
  std::unique_ptr<TrainingParts> parts;  ///< as train() builds it (sac/training_parts.h)
  int64_t obs_dim, act_dim;
  ReplayBuffer* replay;  ///< full: sac.buffer_size transitions from random actions
  SacLearner* learner;
  RandomStream *replay_stream, *explore_stream;  ///< the parts' streams
  double action_limit;
};
Fixture& fixture(c10::Device device, const Config& config);

}  // namespace vecsac::bench
