/// @brief TrainingParts: a run's state from its config.
#include "vecsac/sac/training_parts.h"

#include "vecsac/sac/trainer.h"
#include "vecsac/util/generator.h"
#include "vecsac/util/seed_purpose.h"

namespace vecsac {
namespace {

c10::Device device_of(c10::Device device, const PopulationSeat* seat) {
  return seat != nullptr ? seat->engine->device() : device;
}

SacLearner make_learner(const Config& config, const VecEnv& env, c10::Device device,
                        const PopulationSeat* seat) {
  if (seat != nullptr) {
    return SacLearner(config.sac, env.obs_dim(), env.act_dim(), env.action_limit(), config.run.seed,
                      seat->engine, seat->agent);
  }
  return SacLearner(config.sac, env.obs_dim(), env.act_dim(), env.action_limit(), device,
                    config.run.seed);
}

VecEnv make_env(const Config& config, c10::Device device, const PopulationSeat* seat) {
  const EnvParams params = env_params_of(config, kEnvSeed);
  if (seat == nullptr) return VecEnv(params, config.env.num_envs, device);
  TORCH_CHECK(seat->envs != nullptr, "TrainingParts: agent ", seat->agent,
              "'s seat has no env blocks (PopulationSeat::envs)");
  VecEnv block = seat->envs->agent(seat->agent);
  TORCH_CHECK(block.num_envs() == config.env.num_envs && block.params().seed == params.seed,
              "TrainingParts: agent ", seat->agent, "'s env block was not made from its config");
  return block;
}

}  // namespace

TrainingParts::TrainingParts(const Config& config, c10::Device device, const PopulationSeat* seat)
    : env(make_env(config, device_of(device, seat), seat)),
      replay(seat != nullptr ? ReplayBuffer(seat->replay_rings, seat->agent, config.sac.buffer_size)
                             : ReplayBuffer(config.sac.buffer_size, env.obs_dim(), env.act_dim(),
                                            device_of(device, seat))),
      learner(make_learner(config, env, device_of(device, seat), seat)),
      replay_stream(derive_seed(config.run.seed, kReplaySeed), device_of(device, seat)),
      explore_stream(derive_seed(config.run.seed, kExploreSeed), device_of(device, seat)),
      counters{0, 0, config.run.log_interval} {
  // Before a resume's restore, which keeps it: only the clocks come from the checkpoint.
  if (config.env.stagger_time_limits) env.stagger_time_limits();
  if (config.run.select_episodes > 0) {
    selected.emplace(env.obs_dim(), env.act_dim(), config.sac.pi_arch, env.action_limit(),
                     device_of(device, seat), config.run.select_episodes);
  }
}

}  // namespace vecsac
