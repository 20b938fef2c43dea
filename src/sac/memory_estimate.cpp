/// @brief The run's memory from its shapes, before any of it is allocated.
#include "vecsac/sac/memory_estimate.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <stdexcept>

namespace vecsac {
namespace {

constexpr double kFloat = 4;

// Weights and biases of an MLP from `in` through `hidden` to `out`.
double mlp_parameters(double in, const std::vector<int64_t>& hidden, double out) {
  double n = 0, prev = in;
  for (int64_t w : hidden) n += (prev + 1) * static_cast<double>(w), prev = static_cast<double>(w);
  return n + (prev + 1) * out;
}

double width_sum(const std::vector<int64_t>& hidden) {
  return std::accumulate(hidden.begin(), hidden.end(), 0.0,
                         [](double s, int64_t w) { return s + static_cast<double>(w); });
}

// Per env of a VecEnv: its state, two observations, reward and flags, the clocks and the
// episode sums (doubles and int64s), and the actor's activations to act for it.
double env_bytes(double envs, double obs_dim, double act_dim, double state_dim,
                 const std::vector<int64_t>& pi) {
  const double per_env = kFloat * (state_dim + 2 * obs_dim + 2 * act_dim + 2) + 4 + 8 * 5 + 2;
  const double acting = kFloat * 3 * (width_sum(pi) + 2 * act_dim);
  return envs * (per_env + acting);
}

std::string key(const char* name, int64_t value) {
  return std::string(name) + "=" + std::to_string(value);
}

}  // namespace

std::vector<MemoryItem> estimate_memory(const Config& c, int64_t obs_dim, int64_t act_dim,
                                        int64_t state_dim, int64_t eval_episodes) {
  const auto& s = c.sac;
  const double obs = static_cast<double>(obs_dim), act = static_cast<double>(act_dim),
               state = static_cast<double>(state_dim);
  const double transition = kFloat * (2 * obs + act + 2);
  const double pi_params = mlp_parameters(obs, s.pi_arch, 2 * act);
  const double qf_params = mlp_parameters(obs + act, s.qf_arch, 1);
  // The actor: weights, gradients, two Adam moments, the selected copy. Twin critics:
  // weights, targets, gradients, two Adam moments.
  const double networks = kFloat * (5 * pi_params + 5 * 2 * qf_params);
  // Per sampled transition of a gradient step: the actor's forward and backward on the next
  // and current observations, the twin critics' on the batch, on the targets and in the actor
  // loss (each a few activations per hidden unit), and the sampled batch itself.
  const double batch = static_cast<double>(s.batch_size);
  const double update =
      batch * (kFloat * (8 * width_sum(s.pi_arch) + 2 * 3 * 4 * width_sum(s.qf_arch)) +
               transition * static_cast<double>(s.gradient_steps));
  std::vector<MemoryItem> items = {
      {key("sac.buffer_size", s.buffer_size), "replay buffer",
       static_cast<double>(s.buffer_size) * transition},
      {key("env.num_envs", c.env.num_envs), "environments and acting",
       env_bytes(static_cast<double>(c.env.num_envs), obs, act, state, s.pi_arch)},
      {"sac.policy_kwargs.net_arch", "networks and optimizer state", networks},
      {key("sac.batch_size", s.batch_size) + " (net_arch, gradient_steps)", "update activations",
       update},
      {c.run.eval_init.empty() ? key("run.eval_episodes", eval_episodes)
                               : "run.eval_init (" + std::to_string(eval_episodes) + " starts)",
       "evaluation envs",
       env_bytes(static_cast<double>(eval_episodes), obs, act, state, s.pi_arch)}};
  if (c.run.select_episodes > 0) {
    items.push_back(
        {key("run.select_episodes", c.run.select_episodes), "selection envs",
         env_bytes(static_cast<double>(c.run.select_episodes), obs, act, state, s.pi_arch)});
  }
  std::sort(items.begin(), items.end(),
            [](const MemoryItem& a, const MemoryItem& b) { return a.bytes > b.bytes; });
  return items;
}

double total_bytes(const std::vector<MemoryItem>& items) {
  return std::accumulate(items.begin(), items.end(), 0.0,
                         [](double t, const MemoryItem& i) { return t + i.bytes; });
}

void check_memory_fits(const std::vector<MemoryItem>& items, double available,
                       const std::string& device_name) {
  const double total = total_bytes(items);
  if (total <= available) return;
  std::string parts;
  for (const auto& i : items) {
    if (i.bytes < 0.1 * total) break;  // sorted: the rest cannot be what to lower
    parts +=
        (parts.empty() ? "" : "; ") + i.what + " " + format_bytes(i.bytes) + " (" + i.key + ")";
  }
  throw std::runtime_error("this run needs about " + format_bytes(total) + " but " + device_name +
                           " has " + format_bytes(available) + " available: " + parts +
                           "; lower the largest");
}

}  // namespace vecsac
