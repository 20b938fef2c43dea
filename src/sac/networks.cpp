/// @brief Actor and TwinCritic.
#include "vecsac/sac/networks.h"

#include <ATen/ATen.h>

#include "vecsac/nn/layer_sizes.h"

namespace vecsac {

ActorImpl::ActorImpl(int64_t obs_dim, int64_t act_dim, const std::vector<int64_t>& hidden,
                     double action_limit, at::Generator init_gen)
    : act_dim_(act_dim),
      action_limit_(action_limit),
      net_(register_module(
          "net",
          EnsembleMlp(/*ensemble=*/1, layer_sizes(obs_dim, hidden, 2 * act_dim), init_gen))) {}

std::pair<at::Tensor, at::Tensor> ActorImpl::forward(const at::Tensor& obs) const {
  const at::Tensor out = net_->forward(obs).squeeze(0);
  return {out.narrow(-1, 0, act_dim_),
          at::clamp(out.narrow(-1, act_dim_, act_dim_), kLogStdMin, kLogStdMax)};
}

SquashedSample ActorImpl::sample(const at::Tensor& obs, at::Generator& gen) const {
  const auto [mean, log_std] = forward(obs);
  return squashed_gaussian_sample(mean, log_std, action_limit_, gen);
}

SquashedSample ActorImpl::sample_from(const at::Tensor& obs, const at::Tensor& eps) const {
  const auto [mean, log_std] = forward(obs);
  return squashed_gaussian_sample_from(mean, log_std, eps, action_limit_);
}

at::Tensor ActorImpl::deterministic(const at::Tensor& obs) const {
  return action_limit_ * at::tanh(forward(obs).first);
}

TwinCriticImpl::TwinCriticImpl(int64_t obs_dim, int64_t act_dim, const std::vector<int64_t>& hidden,
                               at::Generator init_gen)
    : net_(register_module(
          "net",
          EnsembleMlp(/*ensemble=*/2, layer_sizes(obs_dim + act_dim, hidden, 1), init_gen))) {}

at::Tensor TwinCriticImpl::forward(const at::Tensor& obs, const at::Tensor& act,
                                   bool detach_params) const {
  return net_->forward(at::cat({obs, act}, -1), detach_params).squeeze(-1);
}

}  // namespace vecsac
