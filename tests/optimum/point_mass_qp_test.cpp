/// @brief The single-axis QP solver against brute force, the unconstrained LQR and the env.
#include "vecsac/optimum/point_mass_qp.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "vecsac/env/vec_env.h"

namespace vecsac {
namespace {

constexpr int kSteps = 200;
constexpr double kH = 0.05;

// J(a) = a'Ha/2 + f'a + c written out as a dense matrix by simulating unit actions:
// independent of the solver's Riccati and adjoint sweeps.
struct DenseQp {
  std::vector<double> hess, lin;  // H (row-major T x T) and f
  double constant = 0;
};

DenseQp dense_qp(double pos, double vel) {
  // x_s = free response + sum_{t<s} G[s][t] a_t with G_pos = h^2 (s - t), G_vel = h.
  DenseQp q{std::vector<double>(kSteps * kSteps), std::vector<double>(kSteps)};
  std::vector<double> p0(kSteps + 1), v0(kSteps + 1);
  p0[0] = pos, v0[0] = vel;
  for (int s = 1; s <= kSteps; ++s) {
    v0[s] = v0[s - 1];
    p0[s] = p0[s - 1] + kH * v0[s];
    q.constant += p0[s] * p0[s] + 0.1 * v0[s] * v0[s];
  }
  for (int i = 0; i < kSteps; ++i) {
    for (int j = 0; j < kSteps; ++j) {
      double h = i == j ? 2 * 0.001 : 0;
      for (int s = std::max(i, j) + 1; s <= kSteps; ++s) {
        h += 2 * (kH * kH * (s - i) * kH * kH * (s - j) + 0.1 * kH * kH);
      }
      q.hess[i * kSteps + j] = h;
    }
    for (int s = i + 1; s <= kSteps; ++s) {
      q.lin[i] += 2 * (p0[s] * kH * kH * (s - i) + 0.1 * v0[s] * kH);
    }
  }
  return q;
}

double dense_cost(const DenseQp& q, const std::vector<double>& a) {
  double c = q.constant;
  for (int i = 0; i < kSteps; ++i) {
    double ha = 0;
    for (int j = 0; j < kSteps; ++j) ha += q.hess[i * kSteps + j] * a[j];
    c += 0.5 * a[i] * ha + q.lin[i] * a[i];
  }
  return c;
}

// Brute force: accelerated projected gradient with adaptive restart (O'Donoghue &
// Candès 2015), step 1/L with L the Gershgorin bound of H, run until the projected
// gradient step moves nothing.
std::vector<double> projected_gradient(const DenseQp& q) {
  double lip = 0;
  for (int i = 0; i < kSteps; ++i) {
    double row = 0;
    for (int j = 0; j < kSteps; ++j) row += std::fabs(q.hess[i * kSteps + j]);
    lip = std::max(lip, row);
  }
  auto project = [](double a) { return std::clamp(a, -2.0, 2.0); };
  std::vector<double> a(kSteps, 0.0), y = a, next(kSteps), grad(kSteps);
  double momentum = 1;
  for (int it = 0; it < 200000; ++it) {
    for (int i = 0; i < kSteps; ++i) {
      grad[i] = q.lin[i];
      for (int j = 0; j < kSteps; ++j) grad[i] += q.hess[i * kSteps + j] * y[j];
    }
    double moved = 0, restart = 0;
    for (int i = 0; i < kSteps; ++i) {
      next[i] = project(y[i] - grad[i] / lip);
      moved = std::max(moved, std::fabs(next[i] - y[i]));
      restart += (y[i] - next[i]) * (next[i] - a[i]);
    }
    if (moved < 1e-13) return next;
    const double m = restart > 0 ? 1 : (1 + std::sqrt(1 + 4 * momentum * momentum)) / 2;
    for (int i = 0; i < kSteps; ++i) {
      y[i] = next[i] + (restart > 0 ? 0 : (momentum - 1) / m * (next[i] - a[i]));
    }
    momentum = m;
    a.swap(next);
  }
  ADD_FAILURE() << "projected gradient did not converge";
  return a;
}

TEST(PointMassOptimumTest, MatchesProjectedGradientIncludingSaturatedStarts) {
  const double starts[][2] = {
      {0.0333808, -0.1526017}, {1, 1}, {-1, 1}, {0.5, -3}, {2, 2}, {0, -5}, {-3, 4}};
  for (const auto& s : starts) {
    const AxisOptimum opt = solve_point_mass_axis(s[0], s[1]);
    const DenseQp q = dense_qp(s[0], s[1]);
    const std::vector<double> brute = projected_gradient(q);
    const double brute_cost = dense_cost(q, brute);
    EXPECT_NEAR(opt.cost, brute_cost, 1e-9 * (1 + brute_cost)) << s[0] << ", " << s[1];
    // The solver can only be better than (or equal to) any feasible answer.
    EXPECT_LE(opt.cost, brute_cost + 1e-12 * (1 + brute_cost));
    EXPECT_NEAR(dense_cost(q, opt.actions), opt.cost, 1e-10 * (1 + opt.cost));
    for (int t = 0; t < kSteps; ++t) EXPECT_NEAR(opt.actions[t], brute[t], 1e-5) << t;
    EXPECT_LE(opt.certificate.stationarity, 1e-12 * (1 + opt.cost));
    EXPECT_LE(opt.certificate.duality_gap_bound, 1e-12 * (1 + opt.cost));
    EXPECT_EQ(opt.certificate.primal_feasibility, 0);
    EXPECT_EQ(opt.certificate.dual_feasibility, 0);
  }
  // These starts do saturate (pos = vel = 1 first brakes at -2 for a while).
  EXPECT_GT(solve_point_mass_axis(1, 1).certificate.saturated, 10);
  EXPECT_GT(solve_point_mass_axis(0, -5).certificate.saturated, 10);
}

// Textbook finite-horizon LQR on J = sum_{t<T} x_t'Qx_t + r a_t^2 + x_T'Qx_T, which is
// the env's cost plus x_0'Qx_0: optimal cost x_0'(P_0 - Q)x_0 and gains K_t.
struct Lqr {
  double cost;
  std::vector<double> actions;
};

Lqr unconstrained_lqr(double pos, double vel) {
  using M = std::array<double, 4>;  // row-major 2x2
  const M a{1, kH, 0, 1}, qm{1, 0, 0, 0.1};
  const double b[2] = {kH * kH, kH}, r = 0.001;
  M p = qm;
  std::vector<std::array<double, 2>> gains(kSteps);
  for (int t = kSteps - 1; t >= 0; --t) {
    const double pb[2] = {p[0] * b[0] + p[1] * b[1], p[2] * b[0] + p[3] * b[1]};
    const double den = r + b[0] * pb[0] + b[1] * pb[1];
    const double bpa[2] = {pb[0] * a[0] + pb[1] * a[2], pb[0] * a[1] + pb[1] * a[3]};
    gains[t] = {bpa[0] / den, bpa[1] / den};
    M apa{};
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 2; ++j) {
        for (int k = 0; k < 2; ++k) {
          for (int l = 0; l < 2; ++l) apa[i * 2 + j] += a[k * 2 + i] * p[k * 2 + l] * a[l * 2 + j];
        }
      }
    }
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 2; ++j) {
        p[i * 2 + j] = qm[i * 2 + j] + apa[i * 2 + j] - bpa[i] * bpa[j] / den;
      }
    }
  }
  Lqr out{pos * pos * (p[0] - 1) + 2 * pos * vel * p[1] + vel * vel * (p[3] - 0.1), {}};
  double x[2] = {pos, vel};
  for (int t = 0; t < kSteps; ++t) {
    const double u = -(gains[t][0] * x[0] + gains[t][1] * x[1]);
    out.actions.push_back(u);
    const double v = x[1] + kH * u;
    x[0] += kH * v;
    x[1] = v;
  }
  return out;
}

TEST(PointMassOptimumTest, EqualsTheUnconstrainedLqrWhereNothingSaturates) {
  const double starts[][2] = {
      {0.0333808, -0.1526017}, {0.2703718, -0.4999700}, {-0.1, 0.05}, {0, 0}};
  for (const auto& s : starts) {
    const AxisOptimum opt = solve_point_mass_axis(s[0], s[1]);
    const Lqr lqr = unconstrained_lqr(s[0], s[1]);
    EXPECT_EQ(opt.certificate.saturated, 0) << s[0] << ", " << s[1];
    EXPECT_LE(*std::max_element(lqr.actions.begin(), lqr.actions.end(),
                                [](double x, double y) { return std::fabs(x) < std::fabs(y); }),
              2.0);
    EXPECT_NEAR(opt.cost, lqr.cost, 1e-12 * (1 + lqr.cost));
    for (int t = 0; t < kSteps; ++t) EXPECT_NEAR(opt.actions[t], lqr.actions[t], 1e-10) << t;
  }
  EXPECT_EQ(solve_point_mass_axis(0, 0).cost, 0);
}

TEST(PointMassOptimumTest, ReplayedInTheEnvTheActionsEarnTheOptimalReturn) {
  // The env rounds its state to float32 each step; that is the whole difference.
  for (const auto& s : {std::array<float, 2>{0.6466056f, -0.8960049f}, {1.f, 1.f}, {-2.f, 3.f}}) {
    const AxisOptimum opt = solve_point_mass_axis(s[0], s[1]);
    VecEnv env(EnvParams{}, 1, c10::Device(c10::kCPU));
    env.set_state(at::tensor({s[0], s[1]}).reshape({1, 2}));
    double ret = 0;
    for (double a : opt.actions) {
      ret += env.step(at::full({1, 1}, static_cast<float>(a))).reward.item<float>();
    }
    EXPECT_NEAR(ret, -opt.cost, 1e-5 * (1 + opt.cost));
    EXPECT_NEAR(point_mass_axis_cost(s[0], s[1], opt.actions), opt.cost, 0);
  }
}

TEST(PointMassOptimumTest, PrimalFallbackAgreesAndTakesOverWhereTheActiveSetCycles) {
  // Here the primal-dual method flips a -2 / +2 boundary back and forth.
  const AxisOptimum cycled = solve_point_mass_axis(1.7379118170389019, -1.6701979560396221);
  EXPECT_TRUE(cycled.certificate.fallback);
  EXPECT_GT(cycled.certificate.saturated, 0);
  QpOptions primal_only;
  primal_only.max_active_set_iterations = 0;
  for (const auto& s : {std::array<double, 2>{0.4, 0.3}, {1, 1}, {-3, 2}, {10, -10}, {1e3, 1e3}}) {
    const AxisOptimum a = solve_point_mass_axis(s[0], s[1]);
    const AxisOptimum b = solve_point_mass_axis(s[0], s[1], primal_only);
    EXPECT_TRUE(b.certificate.fallback);
    EXPECT_NEAR(a.cost, b.cost, 1e-12 * (1 + a.cost)) << s[0] << ", " << s[1];
    EXPECT_LE(b.certificate.duality_gap_bound, 1e-12 * (1 + b.cost));
  }
}

TEST(PointMassOptimumTest, IsSymmetricAndRejectsNonFiniteStarts) {
  EXPECT_EQ(solve_point_mass_axis(0.3, -0.7).cost, solve_point_mass_axis(-0.3, 0.7).cost);
  EXPECT_THROW(solve_point_mass_axis(std::nan(""), 0), std::invalid_argument);
  EXPECT_THROW(solve_point_mass_axis(0, INFINITY), std::invalid_argument);
  QpOptions none;
  none.steps = 0;
  EXPECT_THROW(solve_point_mass_axis(0, 0, none), std::invalid_argument);
}

}  // namespace
}  // namespace vecsac
