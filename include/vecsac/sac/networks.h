/// @brief SAC's actor and twin critics, and the deterministic policy used for evaluation.
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "vecsac/nn/ensemble_mlp.h"
#include "vecsac/sac/squashed_gaussian.h"

namespace vecsac {

/// MLP obs -> [mean, log_std] (log_std clamped to [-20, 2]); actions are
/// action_limit * tanh of the Gaussian sample.
class ActorImpl : public torch::nn::Module {
 public:
  ActorImpl(int64_t obs_dim, int64_t act_dim, const std::vector<int64_t>& hidden,
            double action_limit, at::Generator init_gen);

  /// (mean, clamped log_std), each [B, A].
  std::pair<at::Tensor, at::Tensor> forward(const at::Tensor& obs) const;
  SquashedSample sample(const at::Tensor& obs, at::Generator& gen) const;
  /// The same with the standard normal draws `eps` ([B, A]) given.
  SquashedSample sample_from(const at::Tensor& obs, const at::Tensor& eps) const;
  /// The squashed mean: the deterministic policy.
  at::Tensor deterministic(const at::Tensor& obs) const;

  int64_t act_dim() const { return act_dim_; }
  double action_limit() const { return action_limit_; }

 private:
  int64_t act_dim_;
  double action_limit_;
  EnsembleMlp net_;
};
TORCH_MODULE(Actor);

/// Twin Q(s, a) as one EnsembleMlp with 2 members over [obs, act].
class TwinCriticImpl : public torch::nn::Module {
 public:
  TwinCriticImpl(int64_t obs_dim, int64_t act_dim, const std::vector<int64_t>& hidden,
                 at::Generator init_gen);
  /// [2, B]; detach_params: gradients reach act (the actor loss), never the weights.
  at::Tensor forward(const at::Tensor& obs, const at::Tensor& act,
                     bool detach_params = false) const;

 private:
  EnsembleMlp net_;
};
TORCH_MODULE(TwinCritic);

}  // namespace vecsac
