/// @brief EnsembleMlp.
#include "vecsac/nn/ensemble_mlp.h"

#include <ATen/ops/baddbmm.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/relu.h>

#include <cmath>
#include <string>

namespace vecsac {

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
  at::Tensor h = x.dim() == 2 ? x.unsqueeze(0).expand({ensemble_, x.size(0), x.size(1)}) : x;
  for (size_t l = 0; l < weights_.size(); ++l) {
    const at::Tensor& w = detach_params ? weights_[l].detach() : weights_[l];
    const at::Tensor& b = detach_params ? biases_[l].detach() : biases_[l];
    h = at::baddbmm(b, h, w);
    if (l + 1 < weights_.size()) h = at::relu(h);
  }
  return h;
}

}  // namespace vecsac
