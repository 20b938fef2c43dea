/// @brief Thread bodies and CUDA launchers of the fused squashed-Gaussian sample (torch-free).
#pragma once

#include <cstdint>

#include "vecsac/detail/hd.h"
#include "vecsac/detail/launch_geometry.h"
#include "vecsac/detail/stream.h"
#include "vecsac/sac/squashed_gaussian_math.h"

namespace vecsac {

/// One thread per row; the CPU tests run these over an emulated grid.
VECSAC_HD inline void squashed_gaussian_thread(const SquashedGaussianRows& r, float* action,
                                               float* log_prob, int64_t block, int64_t threads,
                                               int64_t thread) {
  const int64_t i = linear_index(block, threads, thread);
  if (i < r.rows) log_prob[i] = squashed_gaussian_row(r, i, action);
}

/// grad_action and grad_log_prob may be null (that output did not reach the loss).
VECSAC_HD inline void squashed_gaussian_backward_thread(
    const SquashedGaussianRows& r, const float* grad_action, const float* grad_log_prob,
    float* grad_mean, float* grad_log_std, int64_t block, int64_t threads, int64_t thread) {
  const int64_t i = linear_index(block, threads, thread);
  if (i < r.rows) {
    squashed_gaussian_row_backward(r, i, grad_action,
                                   grad_log_prob != nullptr ? grad_log_prob[i] : 0.0f, grad_mean,
                                   grad_log_std);
  }
}

/// Device pointers; one kernel each, on `stream`.
void launch_squashed_gaussian(const SquashedGaussianRows& r, float* action, float* log_prob,
                              CudaStream stream);
void launch_squashed_gaussian_backward(const SquashedGaussianRows& r, const float* grad_action,
                                       const float* grad_log_prob, float* grad_mean,
                                       float* grad_log_std, CudaStream stream);

}  // namespace vecsac
