/// @brief SacLearner: networks, targets, temperature, optimizers and one gradient step.
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <array>
#include <memory>
#include <string>

#include "vecsac/config/config.h"
#include "vecsac/nn/fused_adam.h"
#include "vecsac/replay/replay_buffer.h"
#include "vecsac/sac/networks.h"

namespace vecsac {

/// Means of the update diagnostics since the last take, read in one copy.
struct UpdateStats {
  int64_t updates = 0;
  double qf_loss = 0, actor_loss = 0, alpha_loss = 0, alpha = 0, entropy = 0, q_mean = 0;
};

/// Temperature settings from SB3's ent_coef / target_entropy strings.
struct Temperature {
  bool learned = true;
  double initial = 1.0;          ///< SB3: "auto" starts at 1.0, "auto_0.1" at 0.1
  double target_entropy = -1.0;  ///< "auto": -dim(A)
  static Temperature parse(const std::string& ent_coef, const std::string& target_entropy,
                           int64_t act_dim);
};

class SacLearner {
 public:
  SacLearner(const SacConfig& config, int64_t obs_dim, int64_t act_dim, double action_limit,
             c10::Device device, uint64_t seed);

  /// One gradient step on `batch`, in SB3's order: temperature, critics, actor,
  /// then the Polyak target update every target_update_interval steps.
  /// Diagnostics accumulate on the device; nothing is read back.
  void update(const Batch& batch);

  /// Sets the step size of all three optimizers (for learning-rate schedules).
  void set_learning_rate(double lr);

  /// Stochastic actions for acting (no autograd), from the acting generator.
  at::Tensor act(const at::Tensor& obs);

  /// Returns and clears the accumulated diagnostics (one device-to-host copy).
  UpdateStats take_stats();

  /// Networks, targets, log alpha, Adam states, generators, counters and the
  /// pending diagnostics: everything an exact resume needs.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

  Actor actor;
  TwinCritic critic, critic_target;
  at::Tensor log_alpha;  ///< 0-d; a leaf with grad when the temperature is learned
  std::unique_ptr<FusedAdam> actor_opt, critic_opt, alpha_opt;  ///< alpha_opt may be null
  at::Generator update_gen, act_gen;
  int64_t gradient_steps = 0;  ///< total, for target_update_interval

 private:
  SacConfig config_;
  Temperature temperature_;
  double critic_weight_offset_;  // 0: uniform weights
  at::Tensor stats_sum_;         // [6] on the device
  int64_t stats_count_ = 0;
};

}  // namespace vecsac
