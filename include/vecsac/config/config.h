/// @brief The run configuration: env, SAC hyperparameters (Stable-Baselines3 names) and run
/// settings.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "vecsac/env/env_params.h"

namespace vecsac {

/// Section "env".
struct EnvConfig {
  EnvId id = EnvId::kPointMass;  ///< JSON "name": an env of env/env_registry.h
  int64_t num_envs = 64;         ///< envs stepped together (one vector step = num_envs transitions)
  int dim = 1;                   ///< point-mass axes; pendulum has 1
  int max_episode_steps = 200;   ///< time limit (truncation, not a terminal state)
  /// Env steps per agent step: the action is held and their rewards summed.
  /// Transitions (and every count of steps in "sac" and "run") are agent steps.
  int action_repeat = 1;
  /// Spread the training envs' first time limits over one episode, so that they do
  /// not all reset on the same vector step (VecEnv::stagger_time_limits). SB3 has no
  /// such option; vectorisation needs it: thousands of envs in lockstep fill the
  /// replay buffer with one phase of the episode at a time. Evaluation never staggers.
  bool stagger_time_limits = true;
};

/// sac.ent_coef, SB3's temperature alpha: JSON "auto" (learned from 1.0), "auto_<initial>"
/// (learned from initial) or a number (fixed).
struct EntCoef {
  bool learned = true;
  double initial = 1.0;
  bool operator==(const EntCoef&) const = default;
};

/// Section "sac": SB3 SAC's names and meanings. Counts of steps are env
/// transitions (num_envs per vector step), as in SB3 with vectorised envs.
struct SacConfig {
  double learning_rate = 3e-4;  ///< Adam step size of actor, critics and temperature
  /// JSON "lin_<x>" (rl-zoo's notation): the step size decays linearly from x to
  /// 0 over run.total_timesteps, as SB3's linear schedule does.
  bool learning_rate_linear = false;
  int64_t buffer_size = 1000000;  ///< replay capacity in transitions
  int64_t learning_starts = 100;  ///< transitions collected with uniform random actions first
  int64_t batch_size = 256;       ///< transitions per gradient step
  double tau = 0.005;             ///< Polyak coefficient of the target critics
  double gamma = 0.99;            ///< discount
  int64_t train_freq = 1;         ///< vector steps between training phases
  int64_t gradient_steps = 1;     ///< gradient steps per training phase
  EntCoef ent_coef;
  /// JSON "auto" (nullopt: -dim(A), SB3's heuristic) or a number.
  std::optional<double> target_entropy;
  int64_t target_update_interval = 1;  ///< gradient steps between target updates
  /// JSON "critic_loss_weight": "uniform" (SB3; offset 0) | "relative_<c>" (offset c > 0):
  /// each transition's squared TD error in the critic loss is weighted by 1 / (c + |target|),
  /// the weights scaled to mean 1 over the batch (docs/training.md says why).
  double critic_weight_offset = 0;
  /// policy_kwargs.net_arch, hidden widths: a list sets both networks; SB3's
  /// {"pi": [...], "qf": [...]} sets the actor's and each critic's apart.
  std::vector<int64_t> pi_arch = {256, 256};
  std::vector<int64_t> qf_arch = {256, 256};
};

/// Section "run".
struct RunConfig {
  int64_t total_timesteps = 100000;  ///< env transitions to train for
  uint64_t seed = 0;                 ///< seeds networks, envs, replay sampling and exploration
  std::string device = "auto";       ///< auto | cpu | cuda | cuda:N
  int64_t log_interval = 10000;      ///< transitions between metrics lines
  int64_t eval_freq = 0;      ///< transitions between evaluations (evals.jsonl; 0: only at the end)
  int64_t eval_episodes = 8;  ///< episodes per evaluation
  /// Validation starts scored at each periodic evaluation; the best actor on them is
  /// the one the run reports and `vecsac eval` uses (0: the last actor).
  int64_t select_episodes = 0;
  /// INIT.json ({"states": [...]}, as for rollout --init) whose starts every
  /// evaluation uses instead of eval_episodes random ones ("": random starts).
  std::string eval_init;
  int64_t checkpoint_interval = 0;  ///< transitions between checkpoints (0: only at the end)
  /// CPU threads of torch's intra-op pool, the BLAS and vecsac's loops (0: the default, the
  /// core count or OMP_NUM_THREADS). Small networks train faster on 1: an update of 64-64
  /// nets at batch 100 is a few hundred microseconds, about what a fork and join costs.
  int64_t threads = 0;
};

struct Config {
  EnvConfig env;
  SacConfig sac;
  RunConfig run;
};

/// Strict parse into typed values, done once: unknown keys (with the nearest valid name
/// suggested), wrong types and malformed values throw std::invalid_argument naming the key,
/// the value and what is allowed. Missing keys keep their defaults. Ranges and combinations
/// are validate()'s.
Config config_from_json(const nlohmann::json& doc);

/// The resolved config, every field present.
nlohmann::json config_to_json(const Config& config);

/// Applies "section.key=value" (value parsed as JSON when it parses, else as a
/// string) to a config document; the result still goes through config_from_json.
void apply_override(nlohmann::json& doc, const std::string& assignment);

/// Checks ranges and combinations (batch_size <= buffer_size, learning_starts <
/// total_timesteps, ...); throws std::invalid_argument naming key and value.
void validate(const Config& config);

/// A config.json as this vecsac resolves it (every key, defaults filled in), so one
/// written before a key existed compares equal to the same settings with that key's
/// default. A document without run.seed (a sweep's shared config) stays without it.
nlohmann::json resolved_config_file(const std::filesystem::path& file);

/// The first "section.key" whose value differs between two resolved configs, as
/// "KEY=OLD, now NEW"; keys listed in `ignored` are skipped. "" when none does.
std::string first_config_difference(const nlohmann::json& before, const nlohmann::json& now,
                                    const std::vector<std::string>& ignored = {});

/// sac.target_entropy for an action of act_dim dims ("auto": -act_dim).
double target_entropy(const SacConfig& sac, int64_t act_dim);

}  // namespace vecsac
