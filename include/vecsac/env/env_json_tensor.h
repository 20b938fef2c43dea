/// @brief The env JSON readers of env_json.h, returning CPU float32 tensors.
#pragma once

#include <ATen/ops/from_blob.h>

#include <string>

#include "vecsac/env/env_json.h"

namespace vecsac {

inline at::Tensor to_tensor(const FloatArray& a) {
  // from_blob's data pointer is not const; the clone below is what escapes.
  return at::from_blob(const_cast<float*>(a.values.data()), a.shape, at::kFloat).clone();
}

/// parse_states as a [N, state_dim] tensor.
inline at::Tensor states_from_json(const nlohmann::json& doc, const EnvParams& params,
                                   const std::string& role) {
  return to_tensor(parse_states(doc, params, role));
}

/// parse_actions as a [T, N, act_dim] tensor.
inline at::Tensor actions_from_json(const nlohmann::json& doc, int act_dim,
                                    const std::string& role) {
  return to_tensor(parse_actions(doc, act_dim, role));
}

}  // namespace vecsac
