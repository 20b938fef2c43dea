/// @brief Point-mass dynamics against hand-computed steps and a reference loop.
#include "vecsac/env/point_mass.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "reference_envs.h"

namespace vecsac {
namespace {

EnvParams params(int dim) {
  EnvParams p;
  p.id = EnvId::kPointMass;
  p.dim = dim;
  return p;
}

// One env's SoA state for n = 1: [pos_1..pos_D, vel_1..vel_D].
struct OneEnv {
  std::vector<float> s;
  StateRef ref() { return StateRef{s.data(), 1}; }
};

TEST(PointMassTest, HandComputedSteps) {
  struct Case {
    float action, pos, vel;
    double reward;
  };
  // From pos 0.5, vel -0.25: vel' = vel + 0.05 a, pos' = pos + 0.05 vel',
  // reward = -(pos'^2 + 0.1 vel'^2 + 0.001 a^2), a clipped to [-2, 2].
  const Case cases[] = {
      {1.0f, 0.49f, -0.2f, -(0.2401 + 0.004 + 0.001)},
      {10.0f, 0.4925f, -0.15f, -(0.24255625 + 0.00225 + 0.004)},   // clipped to 2
      {-10.0f, 0.4825f, -0.35f, -(0.23280625 + 0.01225 + 0.004)},  // clipped to -2
      {0.0f, 0.4875f, -0.25f, -(0.23765625 + 0.00625)},
  };
  for (const Case& c : cases) {
    OneEnv e{{0.5f, -0.25f}};
    const double r = PointMass::step(params(1), e.ref(), &c.action);
    EXPECT_FLOAT_EQ(e.s[0], c.pos) << "action " << c.action;
    EXPECT_FLOAT_EQ(e.s[1], c.vel) << "action " << c.action;
    EXPECT_NEAR(r, c.reward, 1e-12) << "action " << c.action;
  }
}

TEST(PointMassTest, NanActionPropagatesLikeNpClip) {
  OneEnv e{{0.5f, -0.25f}};
  const float a = std::nanf("");
  EXPECT_TRUE(std::isnan(PointMass::step(params(1), e.ref(), &a)));
}

TEST(PointMassTest, LongRandomRolloutMatchesReferenceBitForBit) {
  std::mt19937 gen(2024);
  std::uniform_real_distribution<float> act(-3.0f, 3.0f), init(-1.0f, 1.0f);
  for (int dim : {1, 3}) {
    testing::RefPointMass ref;
    OneEnv e{std::vector<float>(2 * dim)};
    for (int j = 0; j < dim; ++j) {
      ref.pos.push_back(e.s[j] = init(gen));
      ref.vel.push_back(e.s[dim + j] = init(gen));
    }
    for (int t = 0; t < 1000; ++t) {
      std::vector<float> a(dim);
      for (float& x : a) x = act(gen);
      const double want = ref.step(a);
      const double got = PointMass::step(params(dim), e.ref(), a.data());
      ASSERT_EQ(got, want) << "dim " << dim << " step " << t;
      for (int j = 0; j < dim; ++j) {
        ASSERT_EQ(e.s[j], ref.pos[j]) << "dim " << dim << " step " << t;
        ASSERT_EQ(e.s[dim + j], ref.vel[j]) << "dim " << dim << " step " << t;
      }
    }
  }
}

TEST(PointMassTest, AxesAreIndependentAndRewardsAdd) {
  // dim = 2 is two dim = 1 envs side by side; its reward is the sum of theirs.
  OneEnv both{{0.3f, -0.7f, 0.9f, 0.1f}};
  OneEnv x{{0.3f, 0.9f}}, y{{-0.7f, 0.1f}};
  for (int t = 0; t < 50; ++t) {
    const float a[2] = {1.5f - 0.07f * t, -0.4f + 0.05f * t};
    const double r = PointMass::step(params(2), both.ref(), a);
    const double rx = PointMass::step(params(1), x.ref(), &a[0]);
    const double ry = PointMass::step(params(1), y.ref(), &a[1]);
    ASSERT_EQ(both.s[0], x.s[0]);
    ASSERT_EQ(both.s[1], y.s[0]);
    ASSERT_EQ(both.s[2], x.s[1]);
    ASSERT_EQ(both.s[3], y.s[1]);
    ASSERT_EQ(r, rx + ry) << t;  // per-axis costs are added in axis order
  }
}

TEST(PointMassTest, ResetDrawsPositionsThenVelocitiesInUnitBox) {
  OneEnv e{std::vector<float>(4)};
  ResetStream rng(/*seed=*/5, /*env=*/0, /*episode=*/0);
  PointMass::reset(params(2), rng, e.ref());
  ResetStream again(5, 0, 0);
  // Axis by axis: pos_j, then vel_j.
  EXPECT_EQ(e.s[0], static_cast<float>(again.uniform(-1.0, 1.0)));
  EXPECT_EQ(e.s[2], static_cast<float>(again.uniform(-1.0, 1.0)));
  EXPECT_EQ(e.s[1], static_cast<float>(again.uniform(-1.0, 1.0)));
  EXPECT_EQ(e.s[3], static_cast<float>(again.uniform(-1.0, 1.0)));
  for (float v : e.s) {
    EXPECT_GE(v, -1.0f);
    EXPECT_LE(v, 1.0f);
  }
}

}  // namespace
}  // namespace vecsac
