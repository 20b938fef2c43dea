/// @brief evaluate.
#include "vecsac/sac/evaluate.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cmath>
#include <iostream>
#include <stdexcept>
#include <string>
#include <utility>

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

namespace {

// Agent k's result from its episodes' returns and initial observations.
EvalResult summarize(std::vector<double> returns, at::Tensor initial_obs, const EnvParams& params) {
  EvalResult r;
  r.returns = std::move(returns);
  r.initial_obs = std::move(initial_obs);
  const auto episodes = static_cast<int64_t>(r.returns.size());
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

}  // namespace

EvalResult evaluate(const Actor& actor, const EnvParams& params, int64_t episodes,
                    c10::Device device, const at::Tensor& init_states) {
  return evaluate_agents([&](const at::Tensor& obs) { return actor->deterministic(obs); }, {params},
                         episodes, device, init_states)
      .front();
}

std::vector<EvalResult> evaluate_agents(const AgentsPolicy& policy,
                                        const std::vector<EnvParams>& agents, int64_t episodes,
                                        c10::Device device, const at::Tensor& init_states) {
  const c10::NoGradGuard no_grad;
  VecEnv env(agents, episodes, device);
  const auto k = static_cast<int64_t>(agents.size());
  if (init_states.defined()) {
    const at::Tensor starts = init_states.to(device);
    for (int64_t a = 0; a < k; ++a) env.agent(a).set_state(starts);
  }
  const at::Tensor initial_obs = env.obs().to(at::kCPU).clone();
  const int64_t rows = k * episodes;
  at::Tensor total = at::zeros({rows}, at::TensorOptions().device(device).dtype(at::kDouble));
  // With action repeat the last step may hold its action for fewer env steps:
  // it stops at the time limit.
  const EnvParams& params = agents.front();
  const int steps = (params.max_episode_steps + params.action_repeat - 1) / params.action_repeat;
  // Each env's first episode only: an env that terminates (the mountain car at its goal)
  // resets in place and would otherwise add the next episode's rewards.
  at::Tensor alive = at::ones({rows}, total.options());
  for (int t = 0; t < steps; ++t) {
    const StepResult s = env.step(policy(env.obs()));
    total.add_(s.reward.to(at::kDouble) * alive);
    alive.mul_(s.terminated.logical_not().to(at::kDouble));
  }
  const at::Tensor cpu = total.to(at::kCPU);
  const double* returns = cpu.data_ptr<double>();
  std::vector<EvalResult> results;
  for (int64_t a = 0; a < k; ++a) {
    results.push_back(summarize(
        std::vector<double>(returns + a * episodes, returns + (a + 1) * episodes),
        initial_obs.narrow(0, a * episodes, episodes).clone(), agents[static_cast<size_t>(a)]));
  }
  return results;
}

}  // namespace vecsac
