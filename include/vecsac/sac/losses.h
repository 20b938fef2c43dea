/// @brief SAC's losses and target update as pure functions of tensors (SB3's SAC.train, Haarnoja et
/// al. 2018).
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

namespace vecsac {

/// Soft Bellman target y = r + gamma (1 - terminated) (min_i Q'_i(s', a') - alpha log pi(a'|s')).
/// Only `terminated` stops the bootstrap. Deviation from the notebook, which
/// also stops it at the time limit: a truncated transition bootstraps from its
/// true final observation (docs/environments.md). All inputs [B] (alpha: 0-d).
at::Tensor soft_q_target(const at::Tensor& reward, const at::Tensor& terminated,
                         const at::Tensor& next_q_min, const at::Tensor& next_log_prob,
                         const at::Tensor& alpha, double gamma);

/// 0.5 * sum over critics of the mean squared error (SB3). q: [E, B], target: [B];
/// weights: [B] with mean 1 (relative_critic_weights), or undefined for uniform (SB3).
at::Tensor critic_loss(const at::Tensor& q, const at::Tensor& target,
                       const at::Tensor& weights = {});

/// Per-transition weights 1 / (offset + |target|), scaled to mean 1 over the batch
/// (sac.critic_loss_weight "relative_<offset>"). Q spans orders of magnitude, from
/// hundreds on the first far-off states to 1e-3 near a goal, and a plain squared error
/// fits the large ones at the expense of the small differences in action that the
/// actor follows near the goal; this weighting asks for the same relative precision
/// everywhere. target: [B], a constant (no gradient flows through the weights).
at::Tensor relative_critic_weights(const at::Tensor& target, double offset);

/// mean(alpha log pi(a|s) - min_i Q_i(s, a)); alpha is a constant here.
at::Tensor actor_loss(const at::Tensor& alpha, const at::Tensor& log_prob, const at::Tensor& q_min);

/// -mean(log_alpha (log pi + target_entropy)): its gradient raises alpha when
/// the policy's entropy (-log pi) is below the target, and lowers it above.
at::Tensor alpha_loss(const at::Tensor& log_alpha, const at::Tensor& log_prob,
                      double target_entropy);

/// target <- (1 - tau) target + tau source, in place, without autograd.
void polyak_update(const std::vector<at::Tensor>& target, const std::vector<at::Tensor>& source,
                   double tau);

}  // namespace vecsac
