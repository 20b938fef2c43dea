/// @brief VecEnv: N environments stepped together on one device, state in tensors.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <vector>

#include "vecsac/env/env_params.h"
#include "vecsac/env/vec_env_ops.h"

namespace vecsac {

/// What one vector step produced. The tensors are the VecEnv's own output
/// buffers, overwritten by the next step (no allocation per step): copy what
/// must outlive it (the replay buffer does).
struct StepResult {
  at::Tensor next_obs;    ///< [N, obs_dim] float32, true next observation before any reset
  at::Tensor reward;      ///< [N] float32
  at::Tensor terminated;  ///< [N] bool: a terminal state (the mountain car at its goal)
  at::Tensor truncated;   ///< [N] bool, the time limit was reached
};

/// Sums over all envs of the episodes finished since the last take, as 0-d
/// device tensors so reading them is the caller's choice of sync point.
struct EpisodeStats {
  at::Tensor count;       ///< int64
  at::Tensor return_sum;  ///< float64
  at::Tensor length_sum;  ///< int64
};

/// Every per-env tensor of a VecEnv, for checkpoints ([state_dim, N] state).
struct VecEnvSnapshot {
  at::Tensor state, elapsed, episode, episode_return;
  at::Tensor finished_count, finished_return_sum, finished_length_sum;
};

class VecEnv {
 public:
  /// Creates num_envs envs on `device` and starts episode 0 of each from params.seed.
  VecEnv(const EnvParams& params, int64_t num_envs, c10::Device device);

  /// A population's envs: `envs_per_agent` envs for each of the agents, agent-major
  /// ([K * N, ...] everywhere), so one step, reset or observation is one launch for all.
  /// Agent k's block is exactly the VecEnv(agents[k], envs_per_agent, device) (the same
  /// starts, steps and resets), which agent(k) views. The agents may differ in their seed
  /// only; another difference is refused, naming the field.
  VecEnv(const std::vector<EnvParams>& agents, int64_t envs_per_agent, c10::Device device);

  /// Agent k's block as a VecEnv of its own: views of this one's storage (the two see each
  /// other's steps), behaving in every call as the agent's single VecEnv.
  VecEnv agent(int64_t k) const;

  /// Steps every env with actions [N, act_dim] (float32, on this device; clipped
  /// to the action bounds by the env). Finished envs start a new episode in
  /// place, so obs() is what the policy sees next. No host synchronisation.
  StepResult step(const at::Tensor& actions);

  /// Sets every env's state ([N, state_dim] float32, any device; layout in
  /// point_mass.h / pendulum.h) and restarts its episode count and time limit
  /// (unstaggered).
  void set_state(const at::Tensor& states);

  /// Spreads the envs' time limits evenly over one episode: env i's first episode
  /// is truncated after max_episode_steps - floor(i * max_episode_steps / N) env
  /// steps (i and N within the agent's block), later ones run the full limit. Without it all N envs
  /// reset on the same vector step, so the newest transitions in a replay buffer all come from one
  /// phase of the episode. The shortened first episodes (env 0's included, for simplicity) stay out
  /// of take_episode_stats(). Call before the first step; restore() keeps the staggering of the env
  /// it is called on.
  void stagger_time_limits();

  /// Current observation of every env: [N, obs_dim] float32, updated in place.
  const at::Tensor& obs() const { return obs_; }
  /// Current state of every env as [N, state_dim] (a copy).
  at::Tensor state() const;

  /// Copies of every per-env tensor (an agent's view: of its block), which a checkpoint
  /// serialises.
  VecEnvSnapshot snapshot() const;
  /// Copies a snapshot of a VecEnv of the same kind and size back in; obs()
  /// follows from the restored state.
  void restore(const VecEnvSnapshot& snapshot);

  /// Returns and clears the finished-episode sums.
  EpisodeStats take_episode_stats();

  /// The (first) agent's params.
  const EnvParams& params() const { return params_; }
  /// Envs in this VecEnv: every agent's for a population's.
  int64_t num_envs() const { return n_; }
  int64_t agents() const { return seeds_.numel(); }
  int obs_dim() const { return obs_dim_; }
  int act_dim() const { return act_dim_; }
  int state_dim() const { return state_dim_; }
  c10::Device device() const { return device_; }
  /// Symmetric action bound: actions are clipped to [-action_limit, action_limit].
  double action_limit() const;

 private:
  VecEnvBuffers buffers();
  void observe();

  EnvParams params_;
  int64_t n_;
  int64_t block_;   // envs per agent
  int64_t stride_;  // envs in the whole storage (more than n_ in an agent's view)
  c10::Device device_;
  int obs_dim_, act_dim_, state_dim_;
  at::Tensor state_;  // [state_dim, N], struct of arrays (a view of [state_dim, stride])
  at::Tensor elapsed_, episode_, episode_return_;
  at::Tensor finished_count_, finished_return_sum_, finished_length_sum_;
  at::Tensor obs_, next_obs_, reward_, terminated_, truncated_;
  at::Tensor seeds_, first_recorded_episode_;  // [agents] int64, VecEnvBuffers'
  std::vector<uint64_t> host_seeds_;           // seeds_ on the host
};

}  // namespace vecsac
