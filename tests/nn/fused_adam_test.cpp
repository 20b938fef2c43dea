/// @brief FusedAdam against LibTorch's reference Adam, and its checkpoint state.
#include "vecsac/nn/fused_adam.h"

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/optim/adam.h>

#include <sstream>

namespace vecsac {
namespace {

std::vector<at::Tensor> make_params(uint64_t seed) {
  at::Generator g = at::detail::createCPUGenerator(seed);
  // Shapes as an ensemble MLP has them, plus a 0-d one like log alpha.
  return {at::randn({2, 3, 8}, g).requires_grad_(), at::randn({2, 1, 8}, g).requires_grad_(),
          at::randn({}, g).requires_grad_()};
}

void set_grads(std::vector<at::Tensor>& params, int step) {
  at::Generator g = at::detail::createCPUGenerator(100 + step);
  for (auto& p : params) p.mutable_grad() = at::randn(p.sizes(), g);
}

// LibTorch's C++ Adam orders its float ops differently (PyTorch's Python Adam
// agrees with the fused kernel bit for bit), so the bar is round-off.
TEST(FusedAdamTest, MatchesTorchAdamToRoundOffIncludingLearningRateChanges) {
  auto ours = make_params(1), ref = make_params(1);
  FusedAdam fused(ours, 1e-2);
  torch::optim::Adam adam(ref, torch::optim::AdamOptions(1e-2));
  for (int step = 0; step < 25; ++step) {
    const double lr = 1e-2 * (1.0 - step / 25.0);  // as a linear schedule sets it
    fused.set_lr(lr);
    for (auto& group : adam.param_groups()) {
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    }
    fused.zero_grad();
    adam.zero_grad();
    set_grads(ours, step);
    set_grads(ref, step);
    fused.step();
    adam.step();
  }
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_TRUE(at::allclose(ours[i], ref[i], /*rtol=*/1e-6, /*atol=*/1e-7))
        << "parameter " << i << " differs by " << (ours[i] - ref[i]).abs().max().item<double>();
    EXPECT_FALSE(at::equal(ours[i], make_params(1)[i])) << "parameter " << i << " never moved";
  }
}

TEST(FusedAdamTest, ZeroGradDropsGradientsAndStepRequiresThem) {
  auto params = make_params(2);
  FusedAdam opt(params, 1e-3);
  set_grads(params, 0);
  opt.zero_grad();
  for (const auto& p : params) EXPECT_FALSE(p.grad().defined());
  EXPECT_THAT([&] { opt.step(); },
              ::testing::ThrowsMessage<c10::Error>(::testing::HasSubstr("has no gradient")));
}

TEST(FusedAdamTest, SavedStateContinuesExactlyAndAShapeMismatchIsRefused) {
  auto a = make_params(3), b = make_params(3);
  FusedAdam first(a, 1e-2), second(b, 1e-2);
  for (int step = 0; step < 3; ++step) {
    set_grads(a, step);
    first.step();
  }
  std::stringstream buffer;
  {
    torch::serialize::OutputArchive out;
    first.save(out);
    out.save_to(buffer);
  }
  for (size_t i = 0; i < a.size(); ++i) b[i].detach().copy_(a[i].detach());
  {
    torch::serialize::InputArchive in;
    in.load_from(buffer);
    second.load(in);
  }
  set_grads(a, 3);
  set_grads(b, 3);
  first.step();
  second.step();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i], b[i])) << "parameter " << i;

  std::vector<at::Tensor> other = {at::zeros({4}).requires_grad_()};
  FusedAdam wrong(other, 1e-2);
  buffer.seekg(0);
  torch::serialize::InputArchive in;
  in.load_from(buffer);
  EXPECT_THAT([&] { wrong.load(in); },
              ::testing::ThrowsMessage<c10::Error>(::testing::HasSubstr("optimizer state")));
}

}  // namespace
}  // namespace vecsac
