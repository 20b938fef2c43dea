/// @brief The training loop's body. The whole file is hot: tools/check_hot_loop.sh rejects
/// host synchronisation anywhere in it.
#include "vecsac/sac/train_iteration.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace vecsac {

at::Tensor exploration_actions(VecEnv& env, RandomStream& stream) {
  const at::Tensor actions = at::empty({env.num_envs(), env.act_dim()}, env.obs().options());
  const auto limit = static_cast<float>(env.action_limit());
  fill_uniform(actions, stream.keys(), stream.next(), -limit, limit);
  return actions;
}

void step_and_insert(TrainingState& state, const at::Tensor& actions,
                     const at::Tensor& obs_before) {
  VecEnv& env = state.env;
  obs_before.copy_(env.obs());
  const StepResult step = env.step(actions);
  state.replay.add(obs_before, actions, step.reward, step.next_obs, step.terminated);
  count_vector_step(state.counters, env.num_envs());
}

void count_vector_step(LoopCounters& c, int64_t num_envs) {
  c.global_step += num_envs;
  ++c.iteration;
}

bool updates_due(const LoopCounters& c, const SacConfig& sac) {
  return c.global_step > sac.learning_starts && c.iteration % sac.train_freq == 0;
}

double linear_lr_factor(const LoopCounters& c, const Config& config) {
  const double remaining =
      1.0 - static_cast<double>(c.global_step) / static_cast<double>(config.run.total_timesteps);
  return std::max(remaining, 0.0);
}

void train_iteration(TrainingState& state, const Config& config, const at::Tensor& obs_before) {
  const SacConfig& sac = config.sac;
  const LoopCounters& c = state.counters;
  const at::Tensor actions = c.global_step < sac.learning_starts
                                 ? exploration_actions(state.env, state.explore_stream)
                                 : state.learner.act(state.env.obs());
  step_and_insert(state, actions, obs_before);
  if (updates_due(c, sac)) {
    if (sac.learning_rate_linear)
      state.learner.set_learning_rate_factor(linear_lr_factor(c, config));
    for (int64_t g = 0; g < sac.gradient_steps; ++g) {
      state.learner.update(state.replay.sample_reused(sac.batch_size, state.replay_stream));
    }
  }
}

}  // namespace vecsac
