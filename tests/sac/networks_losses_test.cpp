/// @brief Squashed Gaussian log-prob, SAC targets and losses, Polyak, temperature direction.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "vecsac/sac/learner.h"
#include "vecsac/sac/losses.h"
#include "vecsac/sac/networks.h"
#include "vecsac/sac/squashed_gaussian.h"
#include "vecsac/util/generator.h"

namespace vecsac {
namespace {

at::Generator cpu_gen(uint64_t seed) { return make_generator(c10::Device(c10::kCPU), seed); }

// Independent computation in double: change of variables a = tanh(u), via the
// action itself (atanh) and the plain 1 - a^2 Jacobian.
double reference_log_prob(const double* mean, const double* log_std, const double* a, int n) {
  double lp = 0.0;
  for (int j = 0; j < n; ++j) {
    const double u = std::atanh(a[j]);
    const double sd = std::exp(log_std[j]);
    lp += -0.5 * std::pow((u - mean[j]) / sd, 2) - std::log(sd) - 0.5 * std::log(2 * M_PI);
    lp -= std::log(1.0 - a[j] * a[j]);
  }
  return lp;
}

TEST(SquashedGaussianTest, LogProbMatchesChangeOfVariablesInDouble) {
  at::Generator gen = cpu_gen(1);
  const at::Tensor mean = at::randn({64, 3}, gen) * 2.0;
  const at::Tensor log_std = at::rand({64, 3}, gen) * 3.0 - 2.0;
  const SquashedSample s = squashed_gaussian_sample(mean, log_std, /*scale=*/1.0, gen);
  const at::Tensor m = mean.to(at::kDouble), l = log_std.to(at::kDouble),
                   a = s.action.to(at::kDouble);
  for (int64_t i = 0; i < 64; ++i) {
    // Skip samples that tanh rounded to +-1 in float32: atanh is then infinite.
    if (a[i].abs().max().item<double>() > 0.9999) continue;
    const double want = reference_log_prob(m[i].data_ptr<double>(), l[i].data_ptr<double>(),
                                           a[i].data_ptr<double>(), 3);
    EXPECT_NEAR(s.log_prob[i].item<float>(), want, 2e-3 * std::max(1.0, std::fabs(want))) << i;
  }
}

TEST(SquashedGaussianTest, StableFormStaysFiniteWhereTheNaiveOneOverflows) {
  // u = 12: tanh(u) rounds to 1 in float32, so log(1 - tanh^2) would be -inf.
  const at::Tensor mean = at::full({1, 1}, 12.0f), log_std = at::zeros({1, 1}),
                   u = at::full({1, 1}, 12.0f);
  const float lp = squashed_gaussian_log_prob(mean, log_std, u).item<float>();
  ASSERT_TRUE(std::isfinite(lp));
  // log(1 - tanh(12)^2) = log(sech(12)^2) = 2 log(2 / (e^12 + e^-12)).
  const double log_jac = 2.0 * std::log(2.0 / (std::exp(12.0) + std::exp(-12.0)));
  EXPECT_NEAR(lp, -0.5 * std::log(2 * M_PI) - log_jac, 1e-3);
}

TEST(SquashedGaussianTest, ActionsRespectTheBoundAndDeterministicIsTheSquashedMean) {
  at::Generator init = cpu_gen(2), gen = cpu_gen(3);
  Actor actor(/*obs_dim=*/2, /*act_dim=*/2, std::vector<int64_t>{32, 32}, /*action_limit=*/2.0,
              init);
  const at::Tensor obs = at::randn({500, 2}, gen) * 5.0;
  const SquashedSample s = actor->sample(obs, gen);
  EXPECT_LE(s.action.abs().max().item<float>(), 2.0f);
  const auto [mean, log_std] = actor->forward(obs);
  EXPECT_TRUE(at::allclose(actor->deterministic(obs), 2.0 * at::tanh(mean)));
  EXPECT_GE(log_std.min().item<float>(), -20.0f);
  EXPECT_LE(log_std.max().item<float>(), 2.0f);
}

TEST(LossesTest, TargetStopsBootstrapOnlyOnTermination) {
  const at::Tensor r = at::tensor({1.0f, 1.0f}), q = at::tensor({10.0f, 10.0f}),
                   logp = at::tensor({-2.0f, -2.0f}), alpha = at::tensor(0.5f);
  // terminated = 1 for the first, 0 for the second (a truncated transition also has 0).
  const at::Tensor y = soft_q_target(r, at::tensor({1.0f, 0.0f}), q, logp, alpha, 0.9);
  EXPECT_FLOAT_EQ(y[0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(y[1].item<float>(), 1.0f + 0.9f * (10.0f + 0.5f * 2.0f));
}

TEST(LossesTest, CriticLossIsHalfTheSumOfPerCriticMse) {
  const at::Tensor q = at::tensor({1.0f, 2.0f, 3.0f, 5.0f}).reshape({2, 2});
  const at::Tensor y = at::tensor({1.0f, 1.0f});
  // critic 0: (0 + 1) / 2 = 0.5; critic 1: (4 + 16) / 2 = 10.
  EXPECT_FLOAT_EQ(critic_loss(q, y).item<float>(), 0.5f * (0.5f + 10.0f));
}

TEST(LossesTest, WeightedCriticLossWeightsEachTransitionsSquaredError) {
  const at::Tensor q = at::tensor({1.0f, 2.0f, 3.0f, 5.0f}).reshape({2, 2});
  const at::Tensor y = at::tensor({1.0f, 1.0f});
  const at::Tensor w = at::tensor({0.5f, 1.5f});
  // critic 0: (0.5 * 0 + 1.5 * 1) / 2 = 0.75; critic 1: (0.5 * 4 + 1.5 * 16) / 2 = 13.
  EXPECT_FLOAT_EQ(critic_loss(q, y, w).item<float>(), 0.5f * (0.75f + 13.0f));
}

TEST(LossesTest, RelativeWeightsAreInverseOffsetPlusAbsTargetWithMeanOne) {
  const double ys[] = {-0.01, -1.0, -250.0, 0.5};
  const double offset = 0.1;
  double sum = 0;
  for (double y : ys) sum += 1.0 / (offset + std::abs(y));
  const at::Tensor w = relative_critic_weights(at::tensor({-0.01f, -1.0f, -250.0f, 0.5f}), offset);
  ASSERT_EQ(w.sizes(), (at::IntArrayRef{4}));
  for (int i = 0; i < 4; ++i) {
    const double want = (1.0 / (offset + std::abs(ys[i]))) / (sum / 4);
    EXPECT_NEAR(w[i].item<double>(), want, 1e-5 * want) << i;
  }
  EXPECT_NEAR(w.mean().item<double>(), 1.0, 1e-6);
  // A transition near the goal outweighs a far one by the ratio of their offset targets.
  EXPECT_GT(w[0].item<double>() / w[2].item<double>(), 1000.0);
}

TEST(LossesTest, RelativeWeightingFitsSmallTargetsToTheSameRelativePrecision) {
  // One q fitted to two targets 1000x apart by gradient descent: it converges to the
  // weighted mean. Uniform weights put it 500x off the small target, relative weights
  // (offset ~0) at twice it.
  const at::Tensor y = at::tensor({-0.01f, -10.0f});
  const auto fit = [&](const at::Tensor& w) {
    at::Tensor q = at::zeros({1, 1}).set_requires_grad(true);
    for (int it = 0; it < 200; ++it) {
      critic_loss(q.expand({1, 2}), y, w).backward();
      const c10::NoGradGuard no_grad;
      q.sub_(q.grad() / w.max());  // step 1 / max weight: stable, and converges
      q.grad().zero_();
    }
    return q.item<double>();
  };
  EXPECT_NEAR(fit(at::ones({2})), -5.005, 1e-3);
  EXPECT_NEAR(fit(relative_critic_weights(y, 1e-6)), -2 * 0.01 * 10 / 10.01, 1e-5);
}

// The learner's critic step uses sac.critic_loss_weight: with equal |targets| the relative
// weights are all 1 and training matches uniform's; with targets of different sizes the
// reported loss and the critic's weights differ. terminated = 1 makes the target the reward
// alone. Three updates, since Adam's first step has the same size for any gradient scale.
TEST(LearnerTest, RelativeCriticWeightsReachTheCriticStep) {
  struct Result {
    at::Tensor params;  // the critic's parameters, flattened
    double qf_loss;
  };
  const auto train = [](double weight_offset, const at::Tensor& reward) {
    SacConfig c;
    c.pi_arch = c.qf_arch = {16, 16};
    c.critic_weight_offset = weight_offset;  // 0: uniform
    SacLearner learner(c, /*obs_dim=*/2, /*act_dim=*/1, /*action_limit=*/2.0,
                       c10::Device(c10::kCPU), /*seed=*/5);
    at::Generator gen = cpu_gen(9);
    const int64_t b = reward.size(0);
    const Batch batch{at::rand({b, 2}, gen) * 2 - 1, at::rand({b, 1}, gen) * 4 - 2, reward,
                      at::rand({b, 2}, gen) * 2 - 1, at::ones({b})};
    for (int i = 0; i < 3; ++i) learner.update(batch);
    std::vector<at::Tensor> flat;
    for (const auto& p : learner.critic->parameters()) flat.push_back(p.detach().flatten());
    return Result{at::cat(flat), learner.take_stats().qf_loss};
  };
  const at::Tensor equal_size = at::tensor({-1.0f, -1.0f, -1.0f, -1.0f, 1.0f, -1.0f, -1.0f, 1.0f});
  const Result u = train(0.0, equal_size), r = train(0.3, equal_size);
  EXPECT_TRUE(at::allclose(u.params, r.params, /*rtol=*/1e-5, /*atol=*/1e-7));
  EXPECT_NEAR(u.qf_loss, r.qf_loss, 1e-5 * u.qf_loss);

  const at::Tensor spread =
      at::tensor({-0.001f, -0.01f, -0.1f, -1.0f, -10.0f, -100.0f, -0.002f, -30.0f});
  const Result us = train(0.0, spread), rs = train(0.3, spread);
  EXPECT_GT((us.params - rs.params).abs().max().item<double>(), 1e-5);
  // The weighted loss discounts the large targets' errors, which dominate the uniform one.
  EXPECT_LT(rs.qf_loss, 0.5 * us.qf_loss);
}

TEST(LossesTest, PolyakMovesTargetsTauOfTheWay) {
  at::Tensor t1 = at::full({3}, 1.0f), t2 = at::full({2, 2}, -4.0f);
  const at::Tensor s1 = at::full({3}, 3.0f), s2 = at::full({2, 2}, 6.0f);
  polyak_update({t1, t2}, {s1, s2}, 0.25);
  EXPECT_TRUE(at::allclose(t1, at::full({3}, 1.5f)));
  EXPECT_TRUE(at::allclose(t2, at::full({2, 2}, -1.5f)));
  polyak_update({t1}, {s1}, 1.0);
  EXPECT_TRUE(at::equal(t1, s1)) << "tau = 1 copies";
}

TEST(LossesTest, TemperatureRisesWhenEntropyIsBelowTargetAndFallsAbove) {
  const double target_entropy = -1.0;
  for (const float logp : {3.0f, -5.0f}) {  // entropy -logp = -3 (below -1), then 5 (above)
    at::Tensor log_alpha = at::zeros({}).requires_grad_(true);
    alpha_loss(log_alpha, at::full({8}, logp), target_entropy).backward();
    const float step = -log_alpha.grad().item<float>();  // gradient descent direction
    if (-logp < target_entropy) {
      EXPECT_GT(step, 0.0f) << "entropy too low: alpha must grow";
    } else {
      EXPECT_LT(step, 0.0f) << "entropy too high: alpha must shrink";
    }
  }
}

TEST(NetworksTest, ActorLossThroughCriticsLeavesNoGradientInCriticWeights) {
  at::Generator init = cpu_gen(4), gen = cpu_gen(5);
  Actor actor(3, 1, std::vector<int64_t>{16, 16}, 2.0, init);
  TwinCritic critic(3, 1, std::vector<int64_t>{16, 16}, init);
  const at::Tensor obs = at::randn({32, 3}, gen);
  const SquashedSample pi = actor->sample(obs, gen);
  const at::Tensor q = std::get<0>(critic->forward(obs, pi.action, /*detach_params=*/true).min(0));
  actor_loss(at::tensor(0.2f), pi.log_prob, q).backward();
  for (const auto& p : critic->parameters()) EXPECT_FALSE(p.grad().defined());
  bool actor_got_grad = false;
  for (const auto& p : actor->parameters()) {
    actor_got_grad |= p.grad().defined() && p.grad().abs().sum().item<float>() > 0;
  }
  EXPECT_TRUE(actor_got_grad);
}

TEST(NetworksTest, TwinCriticsAreTwoIndependentNetworksInOneModule) {
  at::Generator init = cpu_gen(6);
  TwinCritic critic(2, 1, std::vector<int64_t>{8}, init);
  const at::Tensor q = critic->forward(at::ones({4, 2}), at::zeros({4, 1}));
  EXPECT_EQ(q.sizes(), (at::IntArrayRef{2, 4}));
  EXPECT_NE(q[0][0].item<float>(), q[1][0].item<float>()) << "members are initialised apart";
  // Same seed, same weights: initialisation depends on the generator only.
  at::Generator again = cpu_gen(6);
  TwinCritic twin(2, 1, std::vector<int64_t>{8}, again);
  EXPECT_TRUE(at::equal(twin->forward(at::ones({4, 2}), at::zeros({4, 1})), q));
}

}  // namespace
}  // namespace vecsac
