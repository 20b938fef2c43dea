/// @brief Env names and per-env states/actions read from JSON (`--init`, `--actions`), torch-free.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vecsac/env/env_params.h"

namespace vecsac {

/// Parses an env name ("pointmass" | "pendulum"); throws std::invalid_argument otherwise.
EnvId parse_env_id(const std::string& name);

/// How a state of `params`' env is laid out, for messages and docs, e.g. "[theta, theta_dot]".
std::string state_layout(const EnvParams& params);

/// A dense row-major float32 array read from JSON; values.size() is the product of shape.
struct FloatArray {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

/// {"states": [[...], ...]} → shape [N, state_dim], every value finite and within float32.
/// Throws std::invalid_argument naming `role`, the offending element and the layout.
FloatArray parse_states(const nlohmann::json& doc, const EnvParams& params,
                        const std::string& role);

/// {"actions": [T][N][act_dim]} → shape [T, N, act_dim] (T, N >= 1), with the same checks.
FloatArray parse_actions(const nlohmann::json& doc, int act_dim, const std::string& role);

}  // namespace vecsac
