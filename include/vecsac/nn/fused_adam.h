/// @brief FusedAdam: Adam over a fixed parameter list in one fused kernel per step.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/serialize/archive.h>

#include <vector>

namespace vecsac {

/// The update of torch::optim::Adam without weight decay or amsgrad (equal to
/// float round-off), done by at::_fused_adam_ for all parameters at once. Why
/// not torch::optim::Adam: it dispatches about eight ops per parameter and
/// keeps its step count on the host, which costs a small update a large share
/// of its time and would freeze bias correction inside a CUDA graph. Here the
/// moments and step counts are device tensors and the learning rate is a
/// plain value the caller may change between steps.
class FusedAdam {
 public:
  FusedAdam(std::vector<at::Tensor> params, double lr, double beta1 = 0.9, double beta2 = 0.999,
            double eps = 1e-8);

  /// Drops the gradients (as torch's zero_grad(set_to_none=true)): the next
  /// backward writes them fresh instead of adding to stale ones.
  void zero_grad();
  /// One Adam step from the parameters' current gradients, all of which must be defined.
  void step();
  void set_lr(double lr) { lr_ = lr; }
  double lr() const { return lr_; }

  /// Every state tensor (moments, then step counts), for exact comparisons in tests.
  std::vector<at::Tensor> state_tensors() const;
  /// Moments and step counts; load checks that shapes match this optimizer's parameters.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  std::vector<at::Tensor> params_, exp_avgs_, exp_avg_sqs_, steps_;
  std::vector<at::Tensor> grads_;  ///< step()'s scratch list, refilled each step
  double lr_, beta1_, beta2_, eps_;
};

}  // namespace vecsac
