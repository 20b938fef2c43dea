/// @brief ReLU and its backward on strided row stacks: the per-element math, the thread
/// bodies and the CUDA launchers (torch-free).
#pragma once

#include <cmath>
#include <cstdint>

#include "vecsac/detail/hd.h"
#include "vecsac/detail/stream.h"
#include "vecsac/nn/rows.h"

namespace vecsac {

/// A compare, not fmaxf: GCC calls libm's fmaxf per element (NaN rules) instead of
/// vectorising; NaN still propagates, as in torch's relu.
VECSAC_HD inline void relu_element(float* row, int64_t j) {
  row[j] = row[j] < 0.0f ? 0.0f : row[j];
}

/// Backpropagates through a ReLU in place: the gradient survives where the layer's
/// output (`act`, post-ReLU) is positive, as torch's threshold_backward.
VECSAC_HD inline void relu_backward_element(float* grad_row, const float* act_row, int64_t j) {
  grad_row[j] = act_row[j] > 0.0f ? grad_row[j] : 0.0f;
}

/// One block per row, its threads striding over the columns (coalesced), so a row's
/// address is computed once per thread, not once per element. The CPU tests emulate this
/// grid.
inline constexpr int kRowThreads = 128;

VECSAC_HD inline void relu_thread(const Rows& h, int64_t block, int64_t threads, int64_t thread) {
  float* row = row_of(h, block);
  for (int64_t j = thread; j < h.cols; j += threads) relu_element(row, j);
}

VECSAC_HD inline void relu_backward_thread(const Rows& grad, const Rows& act, int64_t block,
                                           int64_t threads, int64_t thread) {
  float* g = row_of(grad, block);
  const float* a = row_of(act, block);
  for (int64_t j = thread; j < grad.cols; j += threads) relu_backward_element(g, a, j);
}

/// Device pointers; one kernel each on `stream`, grid = members * rows blocks.
void launch_relu(const Rows& h, CudaStream stream);
void launch_relu_backward(const Rows& grad, const Rows& act, CudaStream stream);

}  // namespace vecsac
