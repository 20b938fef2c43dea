/// @brief Per-row math of the tanh-squashed Gaussian, shared by the CPU loop and the CUDA
/// kernels (torch-free, so kernels/ can include it).
#pragma once

#include <cmath>
#include <cstdint>

#include "vecsac/detail/hd.h"

namespace vecsac {

/// Row i of a batch: mean, log_std and eps are [rows, dims] row-major.
struct SquashedGaussianRows {
  const float* mean;
  const float* log_std;
  const float* eps;  ///< standard normal draws
  float scale;       ///< action bound: a = scale * tanh(u)
  int64_t rows, dims;
};

/// log(2 pi) / 2, and log 2 for the Jacobian term
inline constexpr float kHalfLog2Pi = 0.91893853320467274f;
inline constexpr float kLog2 = 0.69314718055994531f;

/// One dimension of a sample: u = mean + exp(log_std) * eps, *action = scale * tanh(u),
/// and returns its term of the log-density of tanh(u):
/// -eps^2 / 2 - log_std - log(2 pi) / 2 - log(1 - tanh(u)^2), the Jacobian in the stable
/// form 2 (log 2 - u - softplus(-2u)). (u - mean) / std is eps itself, so the Gaussian term
/// uses eps directly, with no cancellation.
VECSAC_HD inline float squashed_gaussian_element(float mean, float log_std, float eps, float scale,
                                                 float* action) {
  const float u = mean + expf(log_std) * eps;
  *action = scale * tanhf(u);
  const float x = -2.0f * u;  // softplus(x) = max(x, 0) + log1p(exp(-|x|))
  const float softplus = (x > 0.0f ? x : 0.0f) + log1pf(expf(-fabsf(x)));
  return -0.5f * eps * eps - log_std - kHalfLog2Pi - 2.0f * (kLog2 - u - softplus);
}

/// The element's gradients given d loss / d action (grad_action) and d loss / d log_prob
/// (grad_log_prob): with t = tanh(u), d/du = grad_action * scale * (1 - t^2) +
/// grad_log_prob * 2 t (the Jacobian term's derivative is -2 t), d/dmean = d/du,
/// d/dlog_std = d/du * exp(log_std) * eps - grad_log_prob.
VECSAC_HD inline void squashed_gaussian_element_backward(float mean, float log_std, float eps,
                                                         float scale, float grad_action,
                                                         float grad_log_prob, float* grad_mean,
                                                         float* grad_log_std) {
  const float std_dev = expf(log_std);
  const float t = tanhf(mean + std_dev * eps);
  const float du = grad_action * scale * (1.0f - t * t) + grad_log_prob * 2.0f * t;
  *grad_mean = du;
  *grad_log_std = du * std_dev * eps - grad_log_prob;
}

/// Row i: squashed_gaussian_element over its dims; returns the row's log-density.
VECSAC_HD inline float squashed_gaussian_row(const SquashedGaussianRows& r, int64_t i,
                                             float* action) {
  float log_prob = 0.0f;
  for (int64_t j = i * r.dims; j < (i + 1) * r.dims; ++j) {
    log_prob += squashed_gaussian_element(r.mean[j], r.log_std[j], r.eps[j], r.scale, &action[j]);
  }
  return log_prob;
}

/// Gradients of row i given d loss / d action (grad_action, [rows, dims], or null) and
/// d loss / d log_prob (grad_log_prob[i]).
VECSAC_HD inline void squashed_gaussian_row_backward(const SquashedGaussianRows& r, int64_t i,
                                                     const float* grad_action, float grad_log_prob,
                                                     float* grad_mean, float* grad_log_std) {
  for (int64_t j = i * r.dims; j < (i + 1) * r.dims; ++j) {
    squashed_gaussian_element_backward(r.mean[j], r.log_std[j], r.eps[j], r.scale,
                                       grad_action != nullptr ? grad_action[j] : 0.0f,
                                       grad_log_prob, &grad_mean[j], &grad_log_std[j]);
  }
}

}  // namespace vecsac
