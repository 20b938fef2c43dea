/// @brief Replay buffer insert and sample throughput at the point mass's shapes (obs 2, act 1),
/// on the full buffer of configs/pointmass.json (sac.buffer_size transitions).
#include <ATen/ATen.h>
#include <benchmark/benchmark.h>

#include "bench_util.h"

namespace vecsac::bench {
namespace {

// One vector step of N envs, inserted at once, as the trainer does after each env step.
void replay_insert(benchmark::State& state, c10::DeviceType type) {
  const auto device = device_or_skip(state, type);
  if (!device) return;
  Fixture& f = fixture(*device, update_config());
  const int64_t n = state.range(0);
  const auto f32 = at::TensorOptions().device(*device).dtype(at::kFloat);
  const at::Tensor obs = at::rand({n, f.obs_dim}, f32), next_obs = at::rand({n, f.obs_dim}, f32);
  const at::Tensor act = at::rand({n, f.act_dim}, f32), reward = at::rand({n}, f32);
  // bool, as VecEnv::step returns it: the fused insert reads it in place.
  const at::Tensor terminated = at::zeros({n}, f32.dtype(at::kBool));
  time_iterations(state, *device, [&] { f.replay->add(obs, act, reward, next_obs, terminated); });
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(state.iterations() * n *
                          ReplayBuffer::footprint_bytes(/*capacity=*/1, f.obs_dim, f.act_dim));
}

// One batch of B transitions, as each gradient step draws it (into the buffer's own batch).
void replay_sample(benchmark::State& state, c10::DeviceType type) {
  const auto device = device_or_skip(state, type);
  if (!device) return;
  Fixture& f = fixture(*device, update_config());
  const int64_t batch = state.range(0);
  time_iterations(state, *device, [&] {
    const Batch& b = f.replay->sample_reused(batch, *f.replay_stream);
    benchmark::DoNotOptimize(b.obs.data_ptr());
  });
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetBytesProcessed(state.iterations() * batch *
                          ReplayBuffer::footprint_bytes(/*capacity=*/1, f.obs_dim, f.act_dim));
}

const int kRegistered[] = {
    register_cpu_and_cuda("BM_ReplayInsert", replay_insert, {64, 1024, 16384}),
    register_cpu_and_cuda("BM_ReplaySample", replay_sample, {256, 1024, 4096}),
};

}  // namespace
}  // namespace vecsac::bench
