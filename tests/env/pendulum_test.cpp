/// @brief Pendulum-v1 dynamics against hand-computed steps and a reference loop.
#include "vecsac/env/pendulum.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "reference_envs.h"
#include "vecsac/env/vec_env_ops.h"

namespace vecsac {
namespace {

const EnvParams kParams{EnvId::kPendulum, 1, 200, 0};

TEST(PendulumTest, AngleNormalizeFollowsPythonModulo) {
  const double pi = M_PI;
  EXPECT_DOUBLE_EQ(Pendulum::angle_normalize(0.0), 0.0);
  EXPECT_DOUBLE_EQ(Pendulum::angle_normalize(0.5), 0.5);
  EXPECT_DOUBLE_EQ(Pendulum::angle_normalize(-0.5), -0.5);
  // The wrap point maps to -pi from either side's multiple, like Python's %.
  EXPECT_DOUBLE_EQ(Pendulum::angle_normalize(pi), -pi);
  EXPECT_DOUBLE_EQ(Pendulum::angle_normalize(-pi), -pi);
  EXPECT_DOUBLE_EQ(Pendulum::angle_normalize(3 * pi), -pi);
  EXPECT_NEAR(Pendulum::angle_normalize(-1.5 * pi), 0.5 * pi, 1e-15);
  EXPECT_NEAR(Pendulum::angle_normalize(2 * pi + 0.5), 0.5, 1e-15);
  EXPECT_NEAR(Pendulum::angle_normalize(-7 * pi - 0.25), pi - 0.25, 1e-14);
  for (double x = -40.0; x < 40.0; x += 0.37) {
    const double y = Pendulum::angle_normalize(x);
    EXPECT_GE(y, -pi);
    EXPECT_LT(y, pi);
    EXPECT_NEAR(y, testing::RefPendulum::angle_normalize(x), 1e-12) << x;
  }
}

TEST(PendulumTest, HandComputedSteps) {
  float s[2] = {0.0f, 0.0f};
  const float zero = 0.0f;
  EXPECT_EQ(Pendulum::step(kParams, StateRef{s, 1}, &zero), 0.0);  // upright rest is a fixed point
  EXPECT_EQ(s[0], 0.0f);
  EXPECT_EQ(s[1], 0.0f);

  // Horizontal, at rest, no torque: thdot' = 15 sin(pi/2) 0.05 = 0.75.
  const float half_pi = static_cast<float>(M_PI / 2);
  float h[2] = {half_pi, 0.0f};
  double r = Pendulum::step(kParams, StateRef{h, 1}, &zero);
  EXPECT_NEAR(r, -double(half_pi) * half_pi, 1e-12);  // cost on the state before the step
  EXPECT_FLOAT_EQ(h[1], 0.75f);
  EXPECT_FLOAT_EQ(h[0], half_pi + 0.0375f);

  // Torque is clipped to 2 and speed to 8: 7.9 + (15 + 3 * 2) * 0.05 = 8.95 -> 8.
  const float big = 5.0f;
  float c[2] = {half_pi, 7.9f};
  r = Pendulum::step(kParams, StateRef{c, 1}, &big);
  EXPECT_FLOAT_EQ(c[1], 8.0f);
  EXPECT_FLOAT_EQ(c[0], half_pi + 0.4f);
  EXPECT_NEAR(r, -(double(half_pi) * half_pi + 0.1 * 7.9f * 7.9f + 0.001 * 4.0), 1e-9);

  // The angle is not wrapped in the state, only in the cost.
  float w[2] = {static_cast<float>(2 * M_PI + 0.5), 0.0f};
  r = Pendulum::step(kParams, StateRef{w, 1}, &zero);
  EXPECT_GT(w[0], 6.0f);
  EXPECT_NEAR(r, -0.25, 1e-6);
}

TEST(PendulumTest, ObservationIsCosSinSpeed) {
  float s[2] = {1.25f, -3.5f};
  float obs[3];
  write_observation<Pendulum>(kParams, StateRef{s, 1}, obs);
  EXPECT_EQ(obs[0], static_cast<float>(std::cos(1.25)));
  EXPECT_EQ(obs[1], static_cast<float>(std::sin(1.25)));
  EXPECT_EQ(obs[2], -3.5f);
}

TEST(PendulumTest, LongRandomRolloutMatchesReference) {
  std::mt19937 gen(99);
  std::uniform_real_distribution<float> act(-3.0f, 3.0f);
  testing::RefPendulum ref{2.5f, -0.75f};
  float s[2] = {2.5f, -0.75f};
  for (int t = 0; t < 2000; ++t) {
    const float a = act(gen);
    const double want = ref.step(a);
    const double got = Pendulum::step(kParams, StateRef{s, 1}, &a);
    ASSERT_EQ(s[0], ref.th) << t;
    ASSERT_EQ(s[1], ref.thdot) << t;
    ASSERT_NEAR(got, want, 1e-9) << t;  // angle_normalize is fmod- vs floor-based
  }
}

TEST(PendulumTest, ResetDrawsAngleThenSpeed) {
  float s[2];
  ResetStream rng(/*seed=*/9, /*env=*/4, /*episode=*/2);
  Pendulum::reset(kParams, rng, StateRef{s, 1});
  ResetStream again(9, 4, 2);
  EXPECT_EQ(s[0], static_cast<float>(again.uniform(-M_PI, M_PI)));
  EXPECT_EQ(s[1], static_cast<float>(again.uniform(-1.0, 1.0)));
}

}  // namespace
}  // namespace vecsac
