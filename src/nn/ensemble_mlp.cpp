/// @brief EnsembleMlp.
#include "vecsac/nn/ensemble_mlp.h"

#include <ATen/ops/_add_relu.h>
#include <ATen/ops/bmm.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/threshold_backward.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <string>

namespace vecsac {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

at::Tensor per_member(const at::Tensor& x, int64_t ensemble) {
  return x.dim() == 2 ? x.unsqueeze(0).expand({ensemble, x.size(0), x.size(1)}) : x;
}

// bmm, then the bias (and ReLU) added in place into bmm's fresh output: one pass
// over each activation instead of baddbmm's bias broadcast copy plus relu's new
// tensor. `hidden`, when given, receives each hidden layer's (post-ReLU) output.
at::Tensor forward_layers(const at::Tensor& x, at::TensorList ws, at::TensorList bs,
                          std::vector<at::Tensor>* hidden) {
  at::Tensor h = per_member(x, ws[0].size(0));
  for (size_t l = 0; l < ws.size(); ++l) {
    at::Tensor out = at::bmm(h, ws[l]);
    if (l + 1 < ws.size()) {
      // _add_relu_ is one pass but has only a CPU kernel.
      if (out.is_cpu()) {
        at::_add_relu_(out, bs[l]);
      } else {
        out.add_(bs[l]).relu_();
      }
      if (hidden != nullptr) hidden->push_back(out);
    } else {
      out.add_(bs[l]);
    }
    h = out;
  }
  return h;
}

// The whole MLP as one autograd node. Per update this replaces ~14 of the
// learner's 69 nodes; its backward applies the ReLU masks in place and computes
// only the gradients asked for (none for detached critic weights, none for the
// observations): +6 % updates/s at batch 256 on the CPU, +10-17 % at 1024
// (docs/profile.md).
// apply() must get at::TensorList, not std::vector: autograd counts only
// Tensor and TensorList arguments as inputs.
struct MlpFunction : torch::autograd::Function<MlpFunction> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, at::TensorList ws,
                               at::TensorList bs) {
    std::vector<at::Tensor> hidden;
    at::Tensor y = forward_layers(x, ws, bs, &hidden);
    std::vector<at::Tensor> saved{x};
    saved.insert(saved.end(), ws.begin(), ws.end());
    saved.insert(saved.end(), hidden.begin(), hidden.end());
    ctx->save_for_backward(saved);
    ctx->saved_data["layers"] = static_cast<int64_t>(ws.size());
    return {y};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    const variable_list saved = ctx->get_saved_variables();
    const int64_t layers = ctx->saved_data["layers"].toInt();
    const at::Tensor& x = saved[0];
    auto weight = [&](int64_t l) -> const at::Tensor& { return saved[1 + l]; };
    auto hidden = [&](int64_t l) -> const at::Tensor& { return saved[1 + layers + l]; };
    const int64_t ensemble = weight(0).size(0);
    variable_list grads(1 + 2 * layers);
    at::Tensor g = grad_out[0];
    for (int64_t l = layers - 1; l >= 0; --l) {
      // g is a fresh bmm output here (never the caller's gradient), so in place is safe.
      if (l < layers - 1) at::threshold_backward_out(g, g, hidden(l), 0);
      const at::Tensor in = l == 0 ? per_member(x, ensemble) : hidden(l - 1);
      if (ctx->needs_input_grad(1 + l)) grads[1 + l] = at::bmm(in.transpose(1, 2), g);
      if (ctx->needs_input_grad(1 + layers + l)) grads[1 + layers + l] = g.sum(1, true);
      if (l > 0) {
        g = at::bmm(g, weight(l).transpose(1, 2));
      } else if (ctx->needs_input_grad(0)) {
        const at::Tensor gx = at::bmm(g, weight(0).transpose(1, 2));
        grads[0] = x.dim() == 2 ? gx.sum(0) : gx;
      }
    }
    return grads;
  }
};

}  // namespace

EnsembleMlpImpl::EnsembleMlpImpl(int64_t ensemble, std::vector<int64_t> sizes, at::Generator gen)
    : ensemble_(ensemble), sizes_(std::move(sizes)) {
  TORCH_CHECK(ensemble >= 1, "EnsembleMlp: ensemble must be >= 1, got ", ensemble);
  TORCH_CHECK(sizes_.size() >= 2, "EnsembleMlp: need at least input and output sizes");
  for (size_t l = 0; l + 1 < sizes_.size(); ++l) {
    const int64_t in = sizes_[l], out = sizes_[l + 1];
    TORCH_CHECK(in >= 1 && out >= 1, "EnsembleMlp: layer sizes must be >= 1, got ", in, "->", out);
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    at::Tensor w = at::empty({ensemble, in, out}).uniform_(-bound, bound, gen);
    at::Tensor b = at::empty({ensemble, 1, out}).uniform_(-bound, bound, gen);
    weights_.push_back(register_parameter("w" + std::to_string(l), w));
    biases_.push_back(register_parameter("b" + std::to_string(l), b));
  }
}

at::Tensor EnsembleMlpImpl::forward(const at::Tensor& x, bool detach_params) const {
  TORCH_CHECK(x.dim() == 2 || (x.dim() == 3 && x.size(0) == ensemble_),
              "EnsembleMlp: input must be [B, ", sizes_.front(), "] or [", ensemble_, ", B, ",
              sizes_.front(), "], got ", x.sizes());
  TORCH_CHECK(x.size(-1) == sizes_.front(), "EnsembleMlp: input width must be ", sizes_.front(),
              ", got ", x.size(-1));
  if (!c10::GradMode::is_enabled()) return forward_layers(x, weights_, biases_, nullptr);
  if (!detach_params) {
    return MlpFunction::apply(x, at::TensorList(weights_), at::TensorList(biases_))[0];
  }
  c10::SmallVector<at::Tensor, 4> ws, bs;
  for (size_t l = 0; l < weights_.size(); ++l) {
    ws.push_back(weights_[l].detach());
    bs.push_back(biases_[l].detach());
  }
  return MlpFunction::apply(x, at::TensorList(ws), at::TensorList(bs))[0];
}

}  // namespace vecsac
