/// @brief AgentGroup: shared parts and the lockstep iteration of a population's engine.
#include "vecsac/sac/agent_group.h"

#include <ATen/ATen.h>

#include "vecsac/sac/learner.h"
#include "vecsac/sac/train_iteration.h"
#include "vecsac/sac/trainer.h"
#include "vecsac/util/seed_purpose.h"

namespace vecsac {

AgentGroup::AgentGroup(const std::vector<Config>& configs, c10::Device device) : configs_(configs) {
  TORCH_CHECK(!configs_.empty(), "AgentGroup: no agents");
  const Config& first = configs_.front();
  const EnvParams p = env_params_of(first, kEnvSeed);
  const int64_t obs_dim = env_obs_dim(p), act_dim = env_act_dim(p), m = size();
  const double limit = env_action_limit(p);
  action_limit_ = static_cast<float>(limit);
  engine_ = std::make_shared<FusedSacUpdate>(obs_dim, act_dim, first.sac.pi_arch, first.sac.qf_arch,
                                             engine_constants(first.sac, act_dim, limit),
                                             static_cast<float>(first.sac.tau), device, m);
  replay_rings_ =
      ReplayBuffer::allocate_rings(m, first.sac.buffer_size, obs_dim, act_dim, engine_->device());
  std::vector<EnvParams> env_params;
  std::vector<float> scheduled;
  for (const Config& c : configs_) {
    env_params.push_back(env_params_of(c, kEnvSeed));
    any_linear_lr_ = any_linear_lr_ || c.sac.learning_rate_linear;
    scheduled.push_back(c.sac.learning_rate_linear ? 1.0f : 0.0f);
  }
  scheduled_ = at::tensor(scheduled, at::kFloat).to(engine_->device());
  unscheduled_ = 1.0f - scheduled_;
  lr_factors_ = at::ones_like(scheduled_);
  envs_ = std::make_shared<VecEnv>(env_params, first.env.num_envs, engine_->device());
  for (int64_t j = 0; j < m; ++j) seats_.push_back({engine_, j, replay_rings_, envs_});
  const int64_t n = first.env.num_envs, b = first.sac.batch_size;
  const auto f32 = at::TensorOptions().device(engine_->device()).dtype(at::kFloat);
  obs_before_ = at::zeros({m * n, obs_dim}, f32);
  explore_actions_ = at::zeros({m * n, act_dim}, f32);
  batch_ =
      Batch{at::zeros({m * b, obs_dim}, f32), at::zeros({m * b, act_dim}, f32),
            at::zeros({m * b}, f32), at::zeros({m * b, obs_dim}, f32), at::zeros({m * b}, f32)};
}

void AgentGroup::bind(const std::vector<TrainingState*>& states) {
  TORCH_CHECK(static_cast<int64_t>(states.size()) == size(), "AgentGroup::bind: ", states.size(),
              " states for ", size(), " agents");
  states_ = states;
  replays_.clear();
  std::vector<RandomStream*> act, update, explore, replay;
  for (TrainingState* s : states_) {
    replays_.push_back(&s->replay);
    act.push_back(&s->learner.act_stream);
    update.push_back(&s->learner.update_stream);
    explore.push_back(&s->explore_stream);
    replay.push_back(&s->replay_stream);
  }
  act_ = LockstepStreams(act);
  update_ = LockstepStreams(update);
  explore_ = LockstepStreams(explore);
  replay_ = LockstepStreams(replay);
}

// HOT LOOP BEGIN
void AgentGroup::iteration() {
  const SacConfig& sac = configs_.front().sac;
  const int64_t n = configs_.front().env.num_envs;
  const LoopCounters& lead = states_.front()->counters;
  at::Tensor actions;
  if (lead.global_step < sac.learning_starts) {
    const int64_t draw = explore_.next();
    fill_uniform(explore_actions_, explore_.keys(), draw, -action_limit_, action_limit_);
    actions = explore_actions_;
  } else {
    const int64_t draw = act_.next();
    actions = engine_->act(envs_->obs(), act_.keys(), draw);
  }
  obs_before_.copy_(envs_->obs());
  const StepResult step = envs_->step(actions);
  ReplayBuffer::add_lockstep(replays_, obs_before_, actions, step.reward, step.next_obs,
                             step.terminated);
  for (TrainingState* s : states_) count_vector_step(s->counters, n);
  if (!updates_due(lead, sac)) return;
  if (any_linear_lr_) {  // the agents share their counters and total_timesteps
    at::add_out(lr_factors_, unscheduled_, scheduled_, linear_lr_factor(lead, configs_.front()));
    engine_->set_learning_rate_factors(lr_factors_);
  }
  for (int64_t g = 0; g < sac.gradient_steps; ++g) {
    ReplayBuffer::sample_lockstep(replays_, sac.batch_size, replay_, batch_);
    bool update_targets = false;
    for (TrainingState* s : states_) {
      update_targets = s->learner.count_population_update();  // the same for all
    }
    const int64_t draw = update_.next();
    engine_->update(batch_, update_.keys(), draw, update_targets);
  }
}
// HOT LOOP END

std::vector<EvalResult> AgentGroup::evaluate(const std::vector<EnvParams>& agents, int64_t episodes,
                                             const at::Tensor& init_states) {
  TORCH_CHECK(static_cast<int64_t>(agents.size()) == size(),
              "AgentGroup::evaluate: ", agents.size(), " agents' envs for ", size(), " agents");
  return evaluate_agents([&](const at::Tensor& obs) { return engine_->act_deterministic(obs); },
                         agents, episodes, engine_->device(), init_states);
}

}  // namespace vecsac
