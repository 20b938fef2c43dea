/// @brief `vecsac rollout`: step envs with given actions from given or seeded states, as JSON.
#pragma once

#include <ATen/core/Tensor.h>

#include <nlohmann/json.hpp>
#include <string>

#include "vecsac/cli/command.h"
#include "vecsac/env/env_params.h"
#include "vecsac/env/vec_env.h"

namespace vecsac {

/// Parses an env name ("pointmass" | "pendulum"); throws std::invalid_argument otherwise.
EnvId parse_env_id(const std::string& name);

/// {"states": [[...], ...]} → [N, state_dim] float32. Every error names `role`,
/// the offending element and the expected layout for `params`.
at::Tensor states_from_json(const nlohmann::json& doc, const EnvParams& params,
                            const std::string& role);

/// {"actions": [T][N][act_dim]} → [T, N, act_dim] float32 (T, N >= 1).
at::Tensor actions_from_json(const nlohmann::json& doc, int act_dim, const std::string& role);

/// Steps `env` with actions [T, N, act_dim] and returns the OUT document:
/// initial_obs, and per step the true next obs, reward, terminated, truncated.
nlohmann::json run_rollout(VecEnv& env, const at::Tensor& actions);

/// Registers `rollout` under `parent`.
Command add_rollout_command(CLI::App& parent);

}  // namespace vecsac
