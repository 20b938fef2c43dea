/// @brief E independent MLPs evaluated as one batched matmul per layer.
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

namespace vecsac {

/// Layer l holds weight [E, in_l, out_l] and bias [E, 1, out_l]; ReLU between
/// layers, none after the last. Twin critics are one EnsembleMlp with E = 2
/// (one batched matmul per layer instead of two modules); the actor is E = 1.
class EnsembleMlpImpl : public torch::nn::Module {
 public:
  /// sizes = {in, hidden..., out}. Initialised like torch.nn.Linear (uniform in
  /// ±1/sqrt(fan_in) for weights and biases) from `gen`, so a seed fixes it.
  EnsembleMlpImpl(int64_t ensemble, std::vector<int64_t> sizes, at::Generator gen);

  /// x: [B, in] (shared by all members) or [E, B, in]; returns [E, B, out].
  /// detach_params: use the weights as constants, so gradients reach x but
  /// never the weights (the actor loss through the critics).
  at::Tensor forward(const at::Tensor& x, bool detach_params = false) const;

  int64_t ensemble() const { return ensemble_; }
  const std::vector<int64_t>& sizes() const { return sizes_; }

 private:
  int64_t ensemble_;
  std::vector<int64_t> sizes_;
  std::vector<at::Tensor> weights_, biases_;
};
TORCH_MODULE(EnsembleMlp);

}  // namespace vecsac
