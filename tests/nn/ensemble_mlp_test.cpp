/// @brief EnsembleMlp's fused autograd node against plain autograd ops.
#include "vecsac/nn/ensemble_mlp.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include "vecsac/util/generator.h"

namespace vecsac {
namespace {

const c10::Device kCpu(c10::kCPU);

// The textbook form the fused node replaces: baddbmm and relu, autograd's own backward.
at::Tensor reference(const EnsembleMlp& mlp, const at::Tensor& x, bool detach_params) {
  const auto params = mlp->named_parameters();
  const size_t layers = params.size() / 2;
  at::Tensor h = x.dim() == 2 ? x.unsqueeze(0).expand({mlp->ensemble(), x.size(0), x.size(1)}) : x;
  for (size_t l = 0; l < layers; ++l) {
    at::Tensor w = params["w" + std::to_string(l)], b = params["b" + std::to_string(l)];
    if (detach_params) w = w.detach(), b = b.detach();
    h = at::baddbmm(b, h, w);
    if (l + 1 < layers) h = at::relu(h);
  }
  return h;
}

// Value and every gradient (weights, biases, input) of an ensemble of 3 on a
// shared and on a per-member input, and with detached weights only the input's.
TEST(EnsembleMlpTest, FusedNodeMatchesPlainAutogradValuesAndGradients) {
  EnsembleMlp mlp(3, std::vector<int64_t>{4, 16, 8, 2}, make_generator(kCpu, 5));
  at::Generator gen = make_generator(kCpu, 6);
  for (const bool shared : {true, false}) {
    for (const bool detach : {false, true}) {
      SCOPED_TRACE(std::string(shared ? "shared" : "per-member") + (detach ? ", detached" : ""));
      const at::Tensor x0 = shared ? at::randn({32, 4}, gen) : at::randn({3, 32, 4}, gen);
      const at::Tensor upstream = at::randn({3, 32, 2}, gen);
      std::vector<at::Tensor> got, want;
      for (auto* out : {&got, &want}) {
        const at::Tensor x = x0.clone().requires_grad_(true);
        mlp->zero_grad();
        const at::Tensor y = out == &got ? mlp->forward(x, detach) : reference(mlp, x, detach);
        (y * upstream).sum().backward();
        out->push_back(y.detach());
        out->push_back(x.grad());
        for (const auto& p : mlp->parameters()) {
          out->push_back(p.grad().defined() ? p.grad().clone() : at::Tensor());
        }
      }
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(got[i].defined(), want[i].defined()) << "tensor " << i;
        if (!got[i].defined()) continue;
        EXPECT_TRUE(at::allclose(got[i], want[i], 1e-5, 1e-6)) << "tensor " << i;
      }
      // Detached weights get no gradient at all; attached ones all get one.
      for (const auto& p : mlp->parameters()) EXPECT_EQ(p.grad().defined(), !detach);
    }
  }
}

TEST(EnsembleMlpTest, NoGradForwardEqualsTheTrainingForward) {
  EnsembleMlp mlp(2, std::vector<int64_t>{3, 8, 1}, make_generator(kCpu, 1));
  const at::Tensor x = at::randn({5, 3}, make_generator(kCpu, 2));
  const at::Tensor with_grad = mlp->forward(x);
  const c10::NoGradGuard no_grad;
  EXPECT_TRUE(at::equal(mlp->forward(x), with_grad.detach()));
}

// The CUDA forward takes another path (add_ + relu_: _add_relu_ has no CUDA kernel).
TEST(EnsembleMlpCudaTest, ValuesAndGradientsMatchTheCpu) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device: the CUDA path is compiled, not run";
  const c10::Device cuda(c10::kCUDA, 0);
  EnsembleMlp cpu(2, std::vector<int64_t>{3, 16, 1}, make_generator(kCpu, 4));
  EnsembleMlp gpu(2, std::vector<int64_t>{3, 16, 1}, make_generator(kCpu, 4));
  gpu->to(cuda);
  const at::Tensor x = at::randn({8, 3}, make_generator(kCpu, 5));
  std::vector<at::Tensor> grads[2];
  int k = 0;
  for (EnsembleMlp* m : {&cpu, &gpu}) {
    // A fresh leaf each: x.to(kCpu) is x itself, whose requires_grad must not leak.
    const at::Tensor in = x.to(m == &cpu ? kCpu : cuda).detach().clone().requires_grad_(true);
    const at::Tensor y = (*m)->forward(in);
    y.square().sum().backward();
    grads[k].push_back(y.detach().cpu());
    grads[k].push_back(in.grad().cpu());
    for (const auto& p : (*m)->parameters()) grads[k].push_back(p.grad().cpu());
    ++k;
  }
  for (size_t i = 0; i < grads[0].size(); ++i) {
    EXPECT_TRUE(at::allclose(grads[0][i], grads[1][i], 1e-4, 1e-5)) << "tensor " << i;
  }
}

}  // namespace
}  // namespace vecsac
