/// @brief The tanh-squashed Gaussian policy distribution and its log-density.
///
/// Actions are a = scale * tanh(u), u ~ N(mean, std). Log-probabilities are
/// those of tanh(u) in [-1, 1]^A, as in Stable-Baselines3 (the notebook also
/// subtracts log(scale), which only shifts entropy by a constant; SB3's
/// convention keeps target_entropy = -dim(A) meaning the same for any bounds).
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

namespace vecsac {

inline constexpr double kLogStdMin = -20.0;
inline constexpr double kLogStdMax = 2.0;

struct SquashedSample {
  at::Tensor action;    ///< [B, A], scale * tanh(u)
  at::Tensor log_prob;  ///< [B], log density of tanh(u)
};

/// log N(u; mean, std) - sum_j log(1 - tanh(u_j)^2), with the Jacobian term in
/// the stable form 2 (log 2 - u - softplus(-2u)), exact where 1 - tanh^2
/// underflows. mean, log_std, u: [B, A]; returns [B].
at::Tensor squashed_gaussian_log_prob(const at::Tensor& mean, const at::Tensor& log_std,
                                      const at::Tensor& u);

/// Reparameterised sample (gradients flow to mean and log_std), computed in one fused
/// pass per row (squashed_gaussian_math.h) on the CPU and on CUDA.
SquashedSample squashed_gaussian_sample(const at::Tensor& mean, const at::Tensor& log_std,
                                        double scale, at::Generator& gen);

/// The same with the standard normal draws `eps` ([B, A], float32) given: u = mean +
/// exp(log_std) * eps. Equals squashed_gaussian_log_prob at u, to float32 round-off.
SquashedSample squashed_gaussian_sample_from(const at::Tensor& mean, const at::Tensor& log_std,
                                             const at::Tensor& eps, double scale);

}  // namespace vecsac
