/// @brief An ensemble MLP whose parameters live in one flat buffer, run by explicit forward
/// and backward passes: BLAS calls and fused kernels into preallocated buffers, no autograd.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <vector>

#include "vecsac/nn/flat_layout.h"
#include "vecsac/nn/rows.h"

namespace vecsac {

/// Buffers of one pass over up to `rows` rows, allocated once and reused every update.
struct MlpWorkspace {
  int64_t rows = 0;
  /// Layer l's output after its ReLU, l < layers - 1: [E, rows, width + 1], the last
  /// column constant one (the next layer's bias input).
  std::vector<at::Tensor> hidden;
  at::Tensor output;             ///< [E, rows, out], the last layer (no activation)
  std::vector<at::Tensor> grad;  ///< d loss / d (layer l's pre-activation): [E, rows, width_l]
};

/// E networks of the same shape (the actor: E = 1; the twin critics: E = 2). Layer l of
/// member e is a [in + 1, out] block: the weight rows, then the bias row, so that an input
/// with a constant-one column makes one GEMM of weight and bias, and the weight gradient
/// GEMM yields the bias gradient with it. Layers follow each other in the buffer, members
/// inside a layer ([E, in + 1, out]). Adam and Polyak are then one pass over the buffer.
class FlatMlp {
 public:
  /// sizes = {in, hidden..., out}; ReLU between layers, none after the last.
  FlatMlp(int64_t ensemble, std::vector<int64_t> sizes);

  int64_t ensemble() const { return ensemble_; }
  const std::vector<int64_t>& sizes() const { return sizes_; }
  int64_t layers() const { return static_cast<int64_t>(sizes_.size()) - 1; }
  int64_t num_params() const { return offsets_.back(); }
  /// First float of layer l's [E, in + 1, out] block.
  int64_t offset(int64_t layer) const { return offsets_[layer]; }
  /// The buffer's layout for kernels, members_per_agent consecutive members to an agent.
  FlatLayout layout(int64_t members_per_agent) const;

  /// Views of `flat` ([num_params]) shaped as EnsembleMlp's parameters, in its order:
  /// w0 [E, in, out], b0 [E, 1, out], w1, b1, ... (strided where E > 1).
  std::vector<at::Tensor> parameter_views(const at::Tensor& flat) const;

  MlpWorkspace workspace(int64_t rows, const at::TensorOptions& options) const;

  /// The input stack for `rows` rows of `x` ([rows, in + 1] with the ones column), shared
  /// by all members (member stride 0) or per member ([E, rows, in + 1]).
  Rows input_rows(float* x, int64_t rows, bool shared) const;

  /// ws.output = MLP(input) over input.rows rows (<= ws.rows).
  void forward(const float* params, const Rows& input, MlpWorkspace& ws, c10::Device device) const;

  /// Backward from ws.grad.back() (d loss / d output, filled by the caller) over the first
  /// input.rows rows of the last forward: writes the parameter gradients to `param_grad`
  /// (overwriting; null: none) and d loss / d input (without the ones column) to
  /// `input_grad` ([E, rows, in]; null: none).
  void backward(const float* params, const Rows& input, MlpWorkspace& ws, float* param_grad,
                float* input_grad, c10::Device device) const;

 private:
  int64_t ensemble_;
  std::vector<int64_t> sizes_;
  std::vector<int64_t> offsets_;  // per layer, then the total
};

}  // namespace vecsac
