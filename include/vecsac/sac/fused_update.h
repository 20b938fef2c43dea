/// @brief The fused SAC update engine: flat parameters, explicit forward and backward, BLAS
/// calls and fused kernels into preallocated buffers; no autograd and no allocation per
/// update after the first.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "vecsac/nn/flat_mlp.h"
#include "vecsac/replay/replay_buffer.h"
#include "vecsac/sac/fused_update_math.h"

namespace vecsac {

/// One SAC gradient step in SB3's order (temperature, critics, actor, targets) as ~40
/// device launches: per MLP layer one GEMM forward (bias folded in through a ones column,
/// the ReLU in the GEMM's epilogue), and two GEMMs plus a ReLU-backward kernel backward;
/// between them seven fused kernels (nn/flat_mlp.h, sac/fused_update_math.h). Its results
/// equal SacLearner's autograd update (the oracle in tests/sac/fused_update_test.cpp) to
/// float round-off. Every tensor is allocated at construction or at the first update of a
/// new batch size; the host only enqueues work, so nothing waits for the device.
///
/// `agents` K > 1 makes it a population: K independent agents (actors, twin critics,
/// targets, temperatures, Adam moments) whose every GEMM and kernel runs once for all of
/// them, so the launch count does not grow with K. Their batches come agent-major
/// ([K * B, ...]); agent k's networks are member k of the actor's ensemble and members 2k,
/// 2k + 1 of the critics'. Each agent's hyperparameters that need no shape change (learning
/// rate, tau, gamma, target entropy, critic weights, initial temperature) are slots of its
/// own in the scalar buffer (set_agent_hyperparameters).
/// One agent's hyperparameters that need no shape change (SB3's names and meanings;
/// weight_offset: c of relative_<c> critic weights, 0 for uniform).
struct AgentHyperparameters {
  double learning_rate, tau, gamma, target_entropy, weight_offset, initial_alpha;
};

class FusedSacUpdate {
 public:
  FusedSacUpdate(int64_t obs_dim, int64_t act_dim, const std::vector<int64_t>& pi_arch,
                 const std::vector<int64_t>& qf_arch, const SacConstants& constants, float tau,
                 c10::Device device, int64_t agents = 1);

  /// One gradient step on `batch` ([K * B, obs], [K * B, act], [K * B], [K * B, obs], [K * B]
  /// float32 on the engine's device, contiguous, agent-major). Agent k's policy noise of
  /// pi(obs) and pi(next_obs) is draw `draw` of the stream keys[k] ([K] int64 on the device;
  /// random/random_stream.h), [2, B, act] standard normals, made by one fill for all agents.
  /// update_targets: Polyak this step.
  void update(const Batch& batch, const at::Tensor& keys, int64_t draw, bool update_targets);
  /// The same with the noise given ([2, B, act] or [2B, act]): the CUDA tests feed both
  /// devices one draw, since their generators differ.
  void update_with_noise(const Batch& batch, const at::Tensor& eps, bool update_targets);

  /// Actions for `obs` ([K * n, obs] float32 on the engine's device, contiguous, agent-major)
  /// sampled from the squashed Gaussian, agent k's noise draw `draw` of stream keys[k]
  /// ([n, act] standard normals): a staging kernel, the actor's GEMMs and ReLUs, the fill and
  /// a sampling kernel, into buffers of the engine's that the next act() overwrites
  /// (allocated on the first act of each n). The actions are [K * n, act], agent-major.
  const at::Tensor& act(const at::Tensor& obs, const at::Tensor& keys, int64_t draw);
  /// The policy's deterministic actions for `obs` (as act()): the squashed mean,
  /// tanh(mean) x action scale, which is act()'s sample with zero noise. Evaluations use it,
  /// a population's for all its agents in one forward. Buffers of its own per n, as act()'s.
  const at::Tensor& act_deterministic(const at::Tensor& obs);

  /// Every agent's Adam step size, and the base rate of set_learning_rate_factor (one device
  /// write each).
  void set_learning_rate(double lr);
  /// Every agent's step size = its base rate x factor (schedules; one op for any K).
  void set_learning_rate_factor(double factor);
  /// Agent k's step size = its base rate x factors[k] ([K] float32 on the engine's device;
  /// one op for any K).
  void set_learning_rate_factors(const at::Tensor& factors);
  /// Agent k's hyperparameters, before training (host-side writes).
  void set_agent_hyperparameters(int64_t agent, const AgentHyperparameters& h);

  const FlatMlp& actor_mlp() const { return actor_mlp_; }
  const FlatMlp& critic_mlp() const { return critic_mlp_; }
  c10::Device device() const { return device_; }
  int64_t agents() const { return agents_; }

  // Flat buffers ([num_params] each). The actor's and critics' modules hold views of the
  // parameter buffers (SacLearner), so acting, evaluation and checkpoints see them.
  at::Tensor actor_params, critic_params, target_params;
  at::Tensor actor_grad, critic_grad;  ///< the last update's gradients
  at::Tensor actor_exp_avg, actor_exp_avg_sq, critic_exp_avg, critic_exp_avg_sq;
  at::Tensor scalars;  ///< [K * kNumSacScalars] (fused_update_math.h): log alpha, Adam, statistics

 private:
  void prepare(const Batch& batch);
  void check_keys(const at::Tensor& keys) const;
  // Acting's buffers for n rows per agent; the deterministic ones keep their noise at zero.
  struct ActBuffers {
    MlpWorkspace ws;
    at::Tensor in, eps, action;
    at::Tensor out;  // action as [K * n, act]
    ActRows rows{};
  };
  ActBuffers& stage_act(const at::Tensor& obs, bool deterministic);  // up to the noise draw
  const at::Tensor& sample_act(ActBuffers& b);
  void run_update(const Batch& batch, bool update_targets);
  void allocate(int64_t batch);
  SacRows rows(const Batch& batch);

  int64_t agents_, obs_dim_, act_dim_;
  FlatMlp actor_mlp_, critic_mlp_;
  FlatLayout actor_layout_, critic_layout_;  // for the per-agent Adam and Polyak
  SacConstants constants_;
  c10::Device device_;
  int64_t batch_ = 0;  // the buffers' batch size; 0 before the first update
  MlpWorkspace actor_ws_, target_ws_, data_ws_, pi_ws_;
  at::Tensor actor_in_, eps_, log_prob_, q_in_data_, q_in_pi_, q_in_next_, q_in_grad_;
  at::Tensor target_, weight_;
  // Acting and evaluating, apart from the update's: by (rows per agent, deterministic).
  std::map<std::pair<int64_t, bool>, ActBuffers> act_buffers_;
};

}  // namespace vecsac
