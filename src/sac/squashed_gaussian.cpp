/// @brief Squashed Gaussian sampling and log-density.
#include "vecsac/sac/squashed_gaussian.h"

#include <ATen/ATen.h>

#include <cmath>

namespace vecsac {

at::Tensor squashed_gaussian_log_prob(const at::Tensor& mean, const at::Tensor& log_std,
                                      const at::Tensor& u) {
  const double half_log_2pi = 0.5 * std::log(2.0 * M_PI);
  const at::Tensor z = (u - mean) * at::exp(-log_std);
  const at::Tensor gaussian = -0.5 * z * z - log_std - half_log_2pi;
  const at::Tensor log_jacobian = 2.0 * (std::log(2.0) - u - at::softplus(-2.0 * u));
  return (gaussian - log_jacobian).sum(-1);
}

SquashedSample squashed_gaussian_sample(const at::Tensor& mean, const at::Tensor& log_std,
                                        double scale, at::Generator& gen) {
  const at::Tensor eps = at::randn(mean.sizes(), gen, mean.options());
  const at::Tensor u = mean + at::exp(log_std) * eps;
  return {scale * at::tanh(u), squashed_gaussian_log_prob(mean, log_std, u)};
}

}  // namespace vecsac
