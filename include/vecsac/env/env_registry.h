/// @brief The envs vecsac runs, declared once. Each env is a struct of static functions
/// (reset, step, observation, sizes; see env/point_mass.h) that also states its traits:
/// kId, kName, kActionLimit, kMaxDim, kStateLayout, kExactOptimum, kReferenceEpisodeSteps. Adding
/// an env is its header, its EnvId value (env/env_params.h) and its type in `Envs` below; config
/// validation, the VecEnv's kernels and CPU loop, `rollout`, `eval` and the evaluations'
/// optimum all read the registry (docs/environments.md, "Adding an env"). Torch-free: the
/// CUDA kernels include it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vecsac/env/env_params.h"
#include "vecsac/env/mountain_car.h"
#include "vecsac/env/pendulum.h"
#include "vecsac/env/point_mass.h"

namespace vecsac {

template <class... E>
struct EnvList {};

/// Every env, in EnvId order.
using Envs = EnvList<PointMass, Pendulum, MountainCar>;

namespace detail {
template <class F, class... E>
void visit_in(EnvList<E...>, EnvId id, F&& f) {
  (void)((E::kId == id ? (f(E{}), true) : false) || ...);
}
template <class F, class... E>
void for_each_in(EnvList<E...>, F&& f) {
  (f(E{}), ...);
}
}  // namespace detail

/// Calls f(Env{}) with the env whose kId is `id`; host-side dispatch used by both the CUDA
/// launchers and the CPU loop.
template <class F>
void visit_env(EnvId id, F&& f) {
  detail::visit_in(Envs{}, id, f);
}

/// Calls f(Env{}) for every env, in EnvId order.
template <class F>
void for_each_env(F&& f) {
  detail::for_each_in(Envs{}, f);
}

/// "pointmass, pendulum": the names, for messages and help texts.
inline std::string env_names() {
  std::string names;
  for_each_env([&](auto env) { names += (names.empty() ? "" : ", ") + std::string(env.kName); });
  return names;
}

/// The names as a list (CLI choices).
inline std::vector<std::string> env_name_list() {
  std::vector<std::string> names;
  for_each_env([&](auto env) { names.emplace_back(env.kName); });
  return names;
}

/// Whether `name` is an env's kName; `id` receives its id.
inline bool find_env(std::string_view name, EnvId& id) {
  bool found = false;
  for_each_env([&](auto env) {
    if (name == env.kName) id = env.kId, found = true;
  });
  return found;
}

inline const char* env_name(EnvId id) {
  const char* name = "?";
  visit_env(id, [&](auto env) { name = env.kName; });
  return name;
}

/// The symmetric action bound: actions are clipped to [-limit, limit].
inline double env_action_limit(const EnvParams& p) {
  double limit = 0;
  visit_env(p.id, [&](auto env) { limit = env.kActionLimit; });
  return limit;
}

/// The largest env.dim (axes) the env takes; 1 for an env of fixed shape.
inline int env_max_dim(EnvId id) {
  int d = 1;
  visit_env(id, [&](auto env) { d = env.kMaxDim; });
  return d;
}

/// The dim rule for messages: "pendulum has exactly 1 axis", "pointmass has at most 1024 axes".
inline std::string env_dim_rule(EnvId id) {
  const int d = env_max_dim(id);
  return std::string(env_name(id)) +
         (d == 1 ? " has exactly 1 axis" : " has at most " + std::to_string(d) + " axes");
}

/// How a state reads in --init files and messages, e.g. "[theta, theta_dot]".
inline const char* env_state_layout(EnvId id) {
  const char* layout = "";
  visit_env(id, [&](auto env) { layout = env.kStateLayout; });
  return layout;
}

/// Whether evaluations can compare returns with the exact optimum (optimum/).
inline bool env_has_exact_optimum(EnvId id) {
  bool exact = false;
  visit_env(id, [&](auto env) { exact = env.kExactOptimum; });
  return exact;
}

}  // namespace vecsac
