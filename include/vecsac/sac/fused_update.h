/// @brief The fused SAC update engine: flat parameters, explicit forward and backward, BLAS
/// calls and fused kernels into preallocated buffers; no autograd and no allocation per
/// update after the first.
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>

#include "vecsac/nn/flat_mlp.h"
#include "vecsac/replay/replay_buffer.h"
#include "vecsac/sac/fused_update_math.h"

namespace vecsac {

/// One SAC gradient step in SB3's order (temperature, critics, actor, targets) as ~45
/// device launches: per MLP layer one GEMM forward (bias folded in through a ones column)
/// plus a ReLU kernel, and two GEMMs plus a ReLU-backward kernel backward; between them
/// seven fused kernels (nn/flat_mlp.h, sac/fused_update_math.h). Its results equal
/// SacLearner's autograd update (the oracle in tests/sac/fused_update_test.cpp) to float
/// round-off. Every tensor is allocated at construction or at the first update of a new
/// batch size; the host only enqueues work, so nothing waits for the device.
class FusedSacUpdate {
 public:
  FusedSacUpdate(int64_t obs_dim, int64_t act_dim, const std::vector<int64_t>& pi_arch,
                 const std::vector<int64_t>& qf_arch, const SacConstants& constants, float tau,
                 c10::Device device);

  /// One gradient step on `batch` ([B, obs], [B, act], [B], [B, obs], [B] float32 on the
  /// engine's device, contiguous). The policy noise of pi(obs) and pi(next_obs) is one
  /// draw of [2, B, act] standard normals from `gen`. update_targets: Polyak this step.
  void update(const Batch& batch, at::Generator& gen, bool update_targets);
  /// The same with the noise given ([2, B, act] or [2B, act]): the CUDA tests feed both
  /// devices one draw, since their generators differ.
  void update_with_noise(const Batch& batch, const at::Tensor& eps, bool update_targets);

  /// Actions for `obs` ([n, obs] float32 on the engine's device, contiguous) sampled from the
  /// squashed Gaussian, the noise one draw of [n, act] standard normals from `gen`: a staging
  /// kernel, the actor's GEMMs and ReLUs, the draw and a sampling kernel, into buffers of the
  /// engine's that the next act() overwrites (allocated on the first act of each n).
  const at::Tensor& act(const at::Tensor& obs, at::Generator& gen);

  /// Adam's step size for the next updates (one device write; schedules call it).
  void set_learning_rate(double lr);

  const FlatMlp& actor_mlp() const { return actor_mlp_; }
  const FlatMlp& critic_mlp() const { return critic_mlp_; }
  c10::Device device() const { return device_; }

  // Flat buffers ([num_params] each). The actor's and critics' modules hold views of the
  // parameter buffers (SacLearner), so acting, evaluation and checkpoints see them.
  at::Tensor actor_params, critic_params, target_params;
  at::Tensor actor_grad, critic_grad;  ///< the last update's gradients
  at::Tensor actor_exp_avg, actor_exp_avg_sq, critic_exp_avg, critic_exp_avg_sq;
  at::Tensor scalars;  ///< [kNumSacScalars] (fused_update_math.h): log alpha, Adam, statistics

 private:
  void prepare(const Batch& batch);
  void run_update(const Batch& batch, bool update_targets);
  void allocate(int64_t batch);
  SacRows rows(const Batch& batch);

  int64_t obs_dim_, act_dim_;
  FlatMlp actor_mlp_, critic_mlp_;
  SacConstants constants_;
  float tau_;
  c10::Device device_;
  int64_t batch_ = 0;  // the buffers' batch size; 0 before the first update
  MlpWorkspace actor_ws_, target_ws_, data_ws_, pi_ws_;
  at::Tensor actor_in_, eps_, log_prob_, q_in_data_, q_in_pi_, q_in_next_, q_in_grad_;
  at::Tensor target_, weight_;
  MlpWorkspace act_ws_;  // acting: sized by the number of envs, apart from the update's
  at::Tensor act_in_, act_eps_, act_action_;
};

}  // namespace vecsac
