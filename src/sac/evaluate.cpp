/// @brief evaluate.
#include "vecsac/sac/evaluate.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cmath>
#include <iostream>
#include <stdexcept>
#include <string>

#include "vecsac/env/env_registry.h"
#include "vecsac/env/vec_env.h"
#include "vecsac/optimum/optimal_returns.h"

namespace vecsac {

nlohmann::json EvalResult::to_json() const {
  nlohmann::json init = nlohmann::json::array();
  auto a = initial_obs.accessor<float, 2>();
  for (int64_t i = 0; i < initial_obs.size(0); ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (int64_t j = 0; j < initial_obs.size(1); ++j) row.push_back(a[i][j]);
    init.push_back(row);
  }
  nlohmann::json doc = {{"returns", returns}, {"initial_obs", init}, {"mean", mean}, {"std", std}};
  if (!optimal_returns.empty()) {
    doc["optimal_returns"] = optimal_returns;
    doc["optimality_gap"] = optimality_gap;
  }
  return doc;
}

EvalResult evaluate(const Actor& actor, const EnvParams& params, int64_t episodes,
                    c10::Device device, const at::Tensor& init_states) {
  const c10::NoGradGuard no_grad;
  VecEnv env(params, episodes, device);
  if (init_states.defined()) env.set_state(init_states.to(device));
  EvalResult r;
  r.initial_obs = env.obs().to(at::kCPU).clone();
  at::Tensor total = at::zeros({episodes}, at::TensorOptions().device(device).dtype(at::kDouble));
  // With action repeat the last step may hold its action for fewer env steps:
  // it stops at the time limit.
  const int steps = (params.max_episode_steps + params.action_repeat - 1) / params.action_repeat;
  // Each env's first episode only: an env that terminates (the mountain car at its goal)
  // resets in place and would otherwise add the next episode's rewards.
  at::Tensor alive = at::ones({episodes}, total.options());
  for (int t = 0; t < steps; ++t) {
    const StepResult s = env.step(actor->deterministic(env.obs()));
    total.add_(s.reward.to(at::kDouble) * alive);
    alive.mul_(s.terminated.logical_not().to(at::kDouble));
  }
  const at::Tensor cpu = total.to(at::kCPU);
  r.returns.assign(cpu.data_ptr<double>(), cpu.data_ptr<double>() + episodes);
  // A start far outside the env's range (1e30, say) overflows its dynamics: refuse to report a
  // mean of -inf or NaN as if it were a score.
  for (int64_t i = 0; i < episodes; ++i) {
    if (!std::isfinite(r.returns[static_cast<size_t>(i)])) {
      throw std::runtime_error(
          "evaluation: episode " + std::to_string(i) + " returned " +
          std::to_string(r.returns[static_cast<size_t>(i)]) +
          ", not a finite number; its start is outside the range where the env's arithmetic "
          "stays finite");
    }
  }
  for (double x : r.returns) r.mean += x / episodes;
  for (double x : r.returns) r.std += (x - r.mean) * (x - r.mean) / episodes;
  r.std = std::sqrt(r.std);
  if (env_has_exact_optimum(params.id)) {
    // The optimum only annotates the returns: a start the solver cannot certify
    // must not stop the training run that evaluates (it would lose the final checkpoint).
    try {
      r.optimal_returns =
          point_mass_optimal_returns(r.initial_obs, params.max_episode_steps).returns;
      for (double x : r.optimal_returns) r.optimal_mean += x / episodes;
      r.optimality_gap = optimality_gap(r.returns, r.optimal_returns);
    } catch (const std::exception& e) {
      r.optimal_returns.clear();
      std::cerr << "warning: no optimality gap for this evaluation: " << e.what() << std::endl;
    }
  }
  return r;
}

}  // namespace vecsac
