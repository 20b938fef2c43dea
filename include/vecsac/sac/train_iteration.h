/// @brief One vector step of the training loop, shared by `train()` and the benchmarks.
#pragma once

#include <ATen/core/Tensor.h>

#include "vecsac/config/config.h"
#include "vecsac/sac/checkpoint.h"

namespace vecsac {

/// Acts in every env (uniform random actions before `sac.learning_starts`, as
/// SB3, else a policy sample), steps them, inserts the N transitions, then runs
/// `sac.gradient_steps` updates every `sac.train_freq` vector steps once past
/// `learning_starts`. Advances `state.counters` (global_step, iteration).
/// `obs_before` is scratch of the env's obs shape, reused across calls so the
/// loop allocates nothing that grows. No host synchronisation: CUDA work is
/// only enqueued.
void train_iteration(TrainingState& state, const Config& config, const at::Tensor& obs_before);

/// Uniform actions in [-limit, limit) for every env, one draw of `stream` ([N, act], one
/// fill): SB3's exploration before sac.learning_starts.
at::Tensor exploration_actions(VecEnv& env, RandomStream& stream);

/// Steps the env with `actions` and inserts the transitions (obs_before: scratch as in
/// train_iteration); advances the counters.
void step_and_insert(TrainingState& state, const at::Tensor& actions, const at::Tensor& obs_before);

/// Counts one vector step of `num_envs` envs (global_step, iteration).
void count_vector_step(LoopCounters& c, int64_t num_envs);

/// Whether gradient steps follow this iteration (counters already advanced by it).
bool updates_due(const LoopCounters& c, const SacConfig& sac);

/// SB3's linear learning-rate schedule: the progress remaining at c.global_step, >= 0.
double linear_lr_factor(const LoopCounters& c, const Config& config);

}  // namespace vecsac
