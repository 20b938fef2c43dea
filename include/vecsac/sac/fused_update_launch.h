/// @brief Thread bodies and CUDA launchers of the fused SAC update's kernels (torch-free).
#pragma once

#include <cstdint>

#include "vecsac/detail/hd.h"
#include "vecsac/detail/launch_geometry.h"
#include "vecsac/detail/stream.h"
#include "vecsac/sac/fused_update_math.h"

namespace vecsac {

/// Row kernels: one thread per row (or element), kThreadsPerBlock per block.
VECSAC_HD inline void stage_thread(const SacRows& p, int64_t block, int64_t threads,
                                   int64_t thread) {
  const int64_t i = linear_index(block, threads, thread);
  if (i < p.agents * p.batch) stage_row(p, i);
}

VECSAC_HD inline void policy_thread(const SacRows& p, int64_t block, int64_t threads,
                                    int64_t thread) {
  const int64_t i = linear_index(block, threads, thread);
  if (i < p.agents * 2 * p.batch) policy_row(p, i);
}

VECSAC_HD inline void policy_backward_thread(const SacRows& p, int64_t block, int64_t threads,
                                             int64_t thread) {
  const int64_t i = linear_index(block, threads, thread);
  if (i < p.agents * p.batch) policy_backward_row(p, i);
}

VECSAC_HD inline void act_stage_thread(const ActRows& p, int64_t block, int64_t threads,
                                       int64_t thread) {
  const int64_t i = linear_index(block, threads, thread);
  if (i < p.n) act_stage_row(p, i);
}

VECSAC_HD inline void act_sample_thread(const ActRows& p, int64_t block, int64_t threads,
                                        int64_t thread) {
  const int64_t i = linear_index(block, threads, thread);
  if (i < p.n) act_sample_row(p, i);
}

/// Adam over `adam` and, when polyak.n > 0, Polyak over `polyak`: one kernel over
/// max(adam.n, polyak.n) elements (the actor's step and the target update end each update).
VECSAC_HD inline void adam_polyak_thread(const AdamRows& adam, const PolyakRows& polyak,
                                         const float* scalars, const SacConstants& k, int64_t block,
                                         int64_t threads, int64_t thread) {
  const int64_t i = linear_index(block, threads, thread);
  if (i < adam.n) adam_element(adam, i, scalars, k);
  if (i < polyak.n) polyak_element(polyak, i, scalars);
}

/// The two loss kernels reduce over each agent's batch, so each is one block per agent of
/// kReduceThreads threads striding over its rows, with a fixed reduction order
/// (deterministic).
inline constexpr int kReduceThreads = 512;

/// Device pointers; one kernel each on `stream`.
void launch_stage(const SacRows& p, CudaStream stream);
void launch_policy(const SacRows& p, CudaStream stream);
void launch_critic_loss(const SacRows& p, CudaStream stream);
void launch_actor_loss(const SacRows& p, CudaStream stream);
void launch_policy_backward(const SacRows& p, CudaStream stream);
void launch_act_stage(const ActRows& p, CudaStream stream);
void launch_act_sample(const ActRows& p, CudaStream stream);
void launch_adam_polyak(const AdamRows& adam, const PolyakRows& polyak, const float* scalars,
                        const SacConstants& k, CudaStream stream);

}  // namespace vecsac
