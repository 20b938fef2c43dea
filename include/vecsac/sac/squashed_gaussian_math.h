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

/// u = mean + exp(log_std) * eps, a = scale * tanh(u), and the row's log-density of
/// tanh(u): sum_j [-eps_j^2 / 2 - log_std_j - log(2 pi) / 2 - log(1 - tanh(u_j)^2)],
/// the Jacobian in the stable form 2 (log 2 - u - softplus(-2u)). (u - mean) / std is
/// eps itself, so the Gaussian term uses eps directly, with no cancellation.
VECSAC_HD inline float squashed_gaussian_row(const SquashedGaussianRows& r, int64_t i,
                                             float* action) {
  float log_prob = 0.0f;
  for (int64_t j = i * r.dims; j < (i + 1) * r.dims; ++j) {
    const float s = r.log_std[j], e = r.eps[j];
    const float u = r.mean[j] + expf(s) * e;
    action[j] = r.scale * tanhf(u);
    const float x = -2.0f * u;  // softplus(x) = max(x, 0) + log1p(exp(-|x|))
    const float softplus = fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
    log_prob += -0.5f * e * e - s - kHalfLog2Pi - 2.0f * (kLog2 - u - softplus);
  }
  return log_prob;
}

/// Gradients of row i given d loss / d action (grad_action, [rows, dims]) and
/// d loss / d log_prob (grad_log_prob[i]): with t = tanh(u),
/// d/du = grad_action * scale * (1 - t^2) + grad_log_prob * 2 t (the Jacobian term's
/// derivative is -2 t), d/dmean = d/du, d/dlog_std = d/du * exp(log_std) * eps - grad_log_prob.
VECSAC_HD inline void squashed_gaussian_row_backward(const SquashedGaussianRows& r, int64_t i,
                                                     const float* grad_action, float grad_log_prob,
                                                     float* grad_mean, float* grad_log_std) {
  for (int64_t j = i * r.dims; j < (i + 1) * r.dims; ++j) {
    const float std_dev = expf(r.log_std[j]), e = r.eps[j];
    const float t = tanhf(r.mean[j] + std_dev * e);
    const float ga = grad_action != nullptr ? grad_action[j] : 0.0f;
    const float du = ga * r.scale * (1.0f - t * t) + grad_log_prob * 2.0f * t;
    grad_mean[j] = du;
    grad_log_std[j] = du * std_dev * e - grad_log_prob;
  }
}

}  // namespace vecsac
