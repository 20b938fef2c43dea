/// @brief `vecsac rollout`: step envs with given actions from given or seeded states, as JSON.
#pragma once

#include <ATen/core/Tensor.h>

#include <nlohmann/json.hpp>
#include <string>

#include "vecsac/cli/command.h"
#include "vecsac/env/env_json_tensor.h"
#include "vecsac/env/vec_env.h"

namespace vecsac {

/// Steps `env` with actions [T, N, act_dim] and returns the OUT document:
/// initial_obs, and per step the true next obs, reward, terminated, truncated.
nlohmann::json run_rollout(VecEnv& env, const at::Tensor& actions);

/// Registers `rollout` under `parent`.
Command add_rollout_command(CLI::App& parent);

}  // namespace vecsac
