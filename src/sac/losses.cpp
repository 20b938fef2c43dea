/// @brief SAC losses.
#include "vecsac/sac/losses.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

namespace vecsac {

at::Tensor soft_q_target(const at::Tensor& reward, const at::Tensor& terminated,
                         const at::Tensor& next_q_min, const at::Tensor& next_log_prob,
                         const at::Tensor& alpha, double gamma) {
  return reward + gamma * (1.0 - terminated) * (next_q_min - alpha * next_log_prob);
}

at::Tensor critic_loss(const at::Tensor& q, const at::Tensor& target, const at::Tensor& weights) {
  const at::Tensor sq = (q - target.unsqueeze(0)).pow(2);
  return 0.5 * (weights.defined() ? sq * weights.unsqueeze(0) : sq).mean(/*dim=*/1).sum();
}

at::Tensor relative_critic_weights(const at::Tensor& target, double offset) {
  const at::Tensor w = (target.detach().abs() + offset).reciprocal();
  return w / w.mean();
}

at::Tensor actor_loss(const at::Tensor& alpha, const at::Tensor& log_prob,
                      const at::Tensor& q_min) {
  return (alpha * log_prob - q_min).mean();
}

at::Tensor alpha_loss(const at::Tensor& log_alpha, const at::Tensor& log_prob,
                      double target_entropy) {
  return -(log_alpha * (log_prob + target_entropy).detach()).mean();
}

void polyak_update(const std::vector<at::Tensor>& target, const std::vector<at::Tensor>& source,
                   double tau) {
  TORCH_CHECK(target.size() == source.size(), "polyak_update: ", target.size(),
              " target tensors but ", source.size(), " source tensors");
  const c10::NoGradGuard no_grad;
  at::_foreach_mul_(target, 1.0 - tau);
  at::_foreach_add_(target, source, /*alpha=*/tau);
}

}  // namespace vecsac
