/// @brief The fused squashed-Gaussian sample against the op-by-op formula: values, gradients,
/// the emulated CUDA grid, and the CUDA kernels (skipped without a GPU).
#include "vecsac/sac/squashed_gaussian.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <vector>

#include "support/cuda_gpu.h"
#include "vecsac/sac/squashed_gaussian_launch.h"
#include "vecsac/util/generator.h"

namespace vecsac {
namespace {

const c10::Device kCpu(c10::kCPU);

struct Inputs {
  at::Tensor mean, log_std, eps, w_action, w_log_prob;
};

// Wide ranges, so tanh saturates (|u| up to ~40) in some rows.
Inputs inputs(int64_t rows, int64_t dims, uint64_t seed) {
  at::Generator gen = make_generator(kCpu, seed);
  return {at::randn({rows, dims}, gen) * 4.0, at::rand({rows, dims}, gen) * 7.0 - 5.0,
          at::randn({rows, dims}, gen), at::randn({rows, dims}, gen), at::randn({rows}, gen)};
}

struct Result {
  at::Tensor action, log_prob, grad_mean, grad_log_std;
};

// loss = sum(w_action * action) + sum(w_log_prob * log_prob), with either term optional.
// Each run differentiates its own copies of the inputs: `.to(kCpu)` of a CPU tensor is the
// tensor itself, and sharing it would let gradients accumulate (and alias) across runs.
Result run(const Inputs& in, double scale, bool fused, bool use_action, bool use_log_prob,
           c10::Device device = kCpu) {
  const at::Tensor mean = in.mean.to(device).detach().clone().requires_grad_(true);
  const at::Tensor log_std = in.log_std.to(device).detach().clone().requires_grad_(true);
  const at::Tensor eps = in.eps.to(device);
  SquashedSample s;
  if (fused) {
    s = squashed_gaussian_sample_from(mean, log_std, eps, scale);
  } else {
    const at::Tensor u = mean + at::exp(log_std) * eps;
    s = {scale * at::tanh(u), squashed_gaussian_log_prob(mean, log_std, u)};
  }
  at::Tensor loss = at::zeros({}, mean.options());
  if (use_action) loss = loss + (in.w_action.to(device) * s.action).sum();
  if (use_log_prob) loss = loss + (in.w_log_prob.to(device) * s.log_prob).sum();
  loss.backward();
  return {s.action.detach().cpu(), s.log_prob.detach().cpu(), mean.grad().cpu(),
          log_std.grad().cpu()};
}

void expect_close(const Result& a, const Result& b, double rtol, double atol) {
  EXPECT_TRUE(at::allclose(a.action, b.action, rtol, atol)) << "action";
  EXPECT_TRUE(at::allclose(a.log_prob, b.log_prob, rtol, atol)) << "log_prob";
  EXPECT_TRUE(at::allclose(a.grad_mean, b.grad_mean, rtol, atol)) << "grad mean";
  EXPECT_TRUE(at::allclose(a.grad_log_std, b.grad_log_std, rtol, atol)) << "grad log_std";
}

TEST(SquashedGaussianTest, FusedSampleMatchesTheOpByOpFormulaAndItsGradients) {
  const Inputs in = inputs(257, 3, 1);
  for (const auto& [use_action, use_log_prob] :
       {std::pair{true, true}, std::pair{true, false}, std::pair{false, true}}) {
    SCOPED_TRACE(::testing::Message() << "action " << use_action << ", log_prob " << use_log_prob);
    const Result fused = run(in, 2.0, true, use_action, use_log_prob);
    const Result ops = run(in, 2.0, false, use_action, use_log_prob);
    expect_close(fused, ops, 1e-4, 1e-4);
    EXPECT_TRUE(at::isfinite(fused.grad_mean).all().item<bool>());
    EXPECT_TRUE(at::isfinite(fused.grad_log_std).all().item<bool>());
  }
}

TEST(SquashedGaussianTest, RejectsMismatchedShapesAndOtherDtypes) {
  const at::Tensor m = at::zeros({4, 2});
  EXPECT_THROW(squashed_gaussian_sample_from(m, at::zeros({4, 3}), m, 1.0), c10::Error);
  EXPECT_THROW(
      squashed_gaussian_sample_from(m.to(at::kDouble), m.to(at::kDouble), m.to(at::kDouble), 1.0),
      c10::Error);
}

// The CUDA kernels run these thread bodies: over the grid they launch (256-thread blocks,
// threads past the last row included) they must write exactly the CPU loop's results.
TEST(SquashedGaussianTest, EmulatedCudaGridMatchesTheCpuLoop) {
  for (int64_t rows : {int64_t{1}, int64_t{255}, int64_t{256}, int64_t{257}, int64_t{1000}}) {
    const Inputs in = inputs(rows, 2, 7);
    const SquashedGaussianRows r{in.mean.data_ptr<float>(),
                                 in.log_std.data_ptr<float>(),
                                 in.eps.data_ptr<float>(),
                                 1.5f,
                                 rows,
                                 2};
    const float sentinel = -12345.0f;
    std::vector<float> action(rows * 2 + 8, sentinel), log_prob(rows + 8, sentinel);
    std::vector<float> gm(rows * 2 + 8, sentinel), gs(rows * 2 + 8, sentinel);
    const int64_t blocks = blocks_for(rows, kThreadsPerBlock);
    for (int64_t b = 0; b < blocks; ++b) {
      for (int64_t t = 0; t < kThreadsPerBlock; ++t) {
        squashed_gaussian_thread(r, action.data(), log_prob.data(), b, kThreadsPerBlock, t);
        squashed_gaussian_backward_thread(r, in.w_action.data_ptr<float>(),
                                          in.w_log_prob.data_ptr<float>(), gm.data(), gs.data(), b,
                                          kThreadsPerBlock, t);
      }
    }
    const Result cpu = run(in, 1.5, true, true, true);
    auto as_tensor = [](std::vector<float>& v, at::IntArrayRef shape) {
      return at::from_blob(v.data(), shape, at::kFloat);
    };
    EXPECT_TRUE(at::equal(as_tensor(action, {rows, 2}), cpu.action)) << rows;
    EXPECT_TRUE(at::equal(as_tensor(log_prob, {rows}), cpu.log_prob)) << rows;
    EXPECT_TRUE(at::equal(as_tensor(gm, {rows, 2}), cpu.grad_mean)) << rows;
    EXPECT_TRUE(at::equal(as_tensor(gs, {rows, 2}), cpu.grad_log_std)) << rows;
    for (int k = 0; k < 8; ++k) {
      ASSERT_EQ(log_prob[rows + k], sentinel) << "a thread past row " << rows << " wrote";
      ASSERT_EQ(action[rows * 2 + k], sentinel);
      ASSERT_EQ(gs[rows * 2 + k], sentinel);
    }
  }
}

TEST(SquashedGaussianCudaTest, KernelsMatchTheCpu) {
  VECSAC_REQUIRE_CUDA_GPU();
  const Inputs in = inputs(40001, 2, 3);
  expect_close(run(in, 2.0, true, true, true, c10::Device(c10::kCUDA, 0)),
               run(in, 2.0, true, true, true), 1e-5, 1e-5);
}

}  // namespace
}  // namespace vecsac
