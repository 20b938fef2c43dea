/// @brief The training loop's body. The whole file is hot: tools/check_hot_loop.sh rejects
/// host synchronisation anywhere in it.
#include "vecsac/sac/train_iteration.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace vecsac {

void train_iteration(TrainingState& state, const Config& config, const at::Tensor& obs_before) {
  const SacConfig& sac = config.sac;
  LoopCounters& c = state.counters;
  VecEnv& env = state.env;
  at::Tensor actions;
  if (c.global_step < sac.learning_starts) {
    actions =
        (at::rand({env.num_envs(), env.act_dim()}, state.explore_gen, env.obs().options()) * 2.0 -
         1.0) *
        env.action_limit();
  } else {
    actions = state.learner.act(env.obs());
  }
  obs_before.copy_(env.obs());
  const StepResult step = env.step(actions);
  state.replay.add(obs_before, actions, step.reward, step.next_obs, step.terminated);
  c.global_step += env.num_envs();
  ++c.iteration;
  if (c.global_step > sac.learning_starts && c.iteration % sac.train_freq == 0) {
    if (sac.learning_rate_linear) {  // SB3: lr = initial * progress_remaining
      const double remaining = 1.0 - static_cast<double>(c.global_step) /
                                         static_cast<double>(config.run.total_timesteps);
      state.learner.set_learning_rate(sac.learning_rate * std::max(remaining, 0.0));
    }
    for (int64_t g = 0; g < sac.gradient_steps; ++g) {
      state.learner.update(state.replay.sample_reused(sac.batch_size, state.replay_gen));
    }
  }
}

}  // namespace vecsac
