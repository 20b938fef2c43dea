/// @brief Deterministic-policy evaluation: vectorized, each episode to its time limit.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "vecsac/env/env_params.h"
#include "vecsac/sac/networks.h"

namespace vecsac {

struct EvalResult {
  std::vector<double> returns;  ///< one per episode
  at::Tensor initial_obs;       ///< [episodes, obs_dim] on the CPU
  double mean = 0, std = 0;     ///< population std, as np.std
  /// Point mass only (empty otherwise): each start's exact best return
  /// (vecsac optimum), their mean, and mean(optimal - return) / mean|optimal|.
  std::vector<double> optimal_returns;
  double optimal_mean = 0, optimality_gap = 0;
  nlohmann::json to_json() const;
};

/// Runs the squashed-mean policy on `episodes` envs for max_episode_steps env
/// steps (acting every action_repeat of them);
/// for the point mass, also solves each start exactly to put the returns on a scale.
/// With `init_states` defined ([episodes, state_dim]) the envs start there;
/// otherwise they reset from params.seed.
EvalResult evaluate(const Actor& actor, const EnvParams& params, int64_t episodes,
                    c10::Device device, const at::Tensor& init_states = {});

/// A deterministic policy of K agents: actions ([K * n, act], agent-major) for observations
/// ([K * n, obs], agent-major, on the evaluation's device). What it returns is read before
/// the next call.
using AgentsPolicy = std::function<at::Tensor(const at::Tensor& obs)>;

/// The same evaluation for K agents at once, agent k's envs reset from agents[k].seed (the
/// agents' params may differ in their seeds only) or started from `init_states`
/// ([episodes, state_dim], the same starts for every agent): one env step and one policy
/// call a step for all of them. Agent k's result is what evaluate() gives with agents[k] and
/// a policy acting as agent k's rows of `policy`.
std::vector<EvalResult> evaluate_agents(const AgentsPolicy& policy,
                                        const std::vector<EnvParams>& agents, int64_t episodes,
                                        c10::Device device, const at::Tensor& init_states = {});

}  // namespace vecsac
