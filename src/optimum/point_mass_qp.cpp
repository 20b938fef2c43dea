/// @brief solve_point_mass_axis: primal-dual active set on Riccati solves, primal active-set
/// fallback.
///
/// Notation: x_t = (pos_t, vel_t), x_{t+1} = A x_t + B a_t with A = [[1, h], [0, 1]],
/// B = [h^2, h], h = dt; J = sum_{t<T} r a_t^2 + x_{t+1}' Q x_{t+1}, Q = diag(1, 0.1),
/// r = 0.001. A subproblem holds some actions at given values and minimises J over
/// the rest; it is an LQ problem whose input matrix is B at free steps and 0 at held
/// ones, solved exactly by a backward Riccati sweep and a forward pass: O(T), no
/// T x T matrix is ever formed.
///
/// Active-set method: Hintermüller, Ito & Kunisch, "The primal-dual active set strategy
/// as a semismooth Newton method", SIAM J. Optim. 13(3), 2003. It settles in a few
/// steps on most starts but can cycle (its Hessian is not an M-matrix), typically
/// where a -2 stretch meets a +2 one; then the primal active-set method finishes.
#include "vecsac/optimum/point_mass_qp.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "vecsac/env/point_mass.h"

namespace vecsac {
namespace {

constexpr double kH = PointMass::kDt;
constexpr double kLimit = PointMass::kActionLimit;
constexpr double kR = 0.001;  // action weight of the env's cost
constexpr double kQv = 0.1;   // velocity weight (the position weight is 1)

struct Vec2 {
  double p = 0, v = 0;
};

Vec2 step(Vec2 x, double a) {
  const double v = x.v + kH * a;  // the env's association: pos uses the new vel
  return {x.p + kH * v, v};
}

// Affine feedback a_t = -(k1 pos + k2 vel + k0) of a free step (unused at held steps).
struct Gain {
  double k1 = 0, k2 = 0, k0 = 0;
};

// Backward Riccati sweep for the subproblem that holds action t at side[t] * 2 where
// side[t] != 0 and leaves the others free.
std::vector<Gain> riccati_gains(const std::vector<int>& side) {
  const int n = static_cast<int>(side.size());
  std::vector<Gain> gain(n);
  // Cost-to-go V_{t+1}(x) = x'P x + 2 q'x + const; V_T = 0.
  double p11 = 0, p12 = 0, p22 = 0, q1 = 0, q2 = 0;
  for (int t = n - 1; t >= 0; --t) {
    // S = Q + P_{t+1}: the cost of landing in x_{t+1}, its stage cost included.
    const double s11 = 1 + p11, s12 = p12, s22 = kQv + p22;
    // M = A'SA, w = A'SB = (SB)'A, sb = SB, bsb = B'SB, bq = B'q, aq = A'q.
    const double m11 = s11, m12 = s11 * kH + s12, m22 = s11 * kH * kH + 2 * s12 * kH + s22;
    const double sb1 = s11 * kH * kH + s12 * kH, sb2 = s12 * kH * kH + s22 * kH;
    const double w1 = sb1, w2 = kH * sb1 + sb2;
    const double bsb = kH * kH * sb1 + kH * sb2;
    const double bq = kH * kH * q1 + kH * q2;
    const double aq1 = q1, aq2 = kH * q1 + q2;
    if (side[t] != 0) {
      const double b = side[t] * kLimit;
      p11 = m11, p12 = m12, p22 = m22;
      q1 = aq1 + w1 * b, q2 = aq2 + w2 * b;  // A'(S B b + q)
    } else {
      const double den = kR + bsb;
      gain[t] = {w1 / den, w2 / den, bq / den};
      p11 = m11 - w1 * w1 / den, p12 = m12 - w1 * w2 / den, p22 = m22 - w2 * w2 / den;
      q1 = aq1 - w1 * bq / den, q2 = aq2 - w2 * bq / den;
    }
  }
  return gain;
}

// Minimises J over the free actions (side 0) with the others held at side * 2.
std::vector<double> riccati_solve(Vec2 x0, const std::vector<int>& side) {
  const std::vector<Gain> gain = riccati_gains(side);
  std::vector<double> a(side.size());
  Vec2 x = x0;
  for (size_t t = 0; t < a.size(); ++t) {
    a[t] = side[t] != 0 ? side[t] * kLimit : -(gain[t].k1 * x.p + gain[t].k2 * x.v + gain[t].k0);
    x = step(x, a[t]);
  }
  return a;
}

// The warm start: the rollout of the unconstrained LQR feedback, clipped to the box at
// each step. Its clipped steps are the first guess of the active set.
std::vector<double> clipped_lqr_rollout(Vec2 x0, int n) {
  const std::vector<Gain> gain = riccati_gains(std::vector<int>(n, 0));
  std::vector<double> a(n);
  Vec2 x = x0;
  for (int t = 0; t < n; ++t) {
    a[t] = std::clamp(-(gain[t].k1 * x.p + gain[t].k2 * x.v), -kLimit, kLimit);
    x = step(x, a[t]);
  }
  return a;
}

// dJ/da by the adjoint (costate) sweep: lambda_t = dJ/dx_t.
std::vector<double> gradient(Vec2 x0, const std::vector<double>& a) {
  const int n = static_cast<int>(a.size());
  std::vector<Vec2> x(n + 1);
  x[0] = x0;
  for (int t = 0; t < n; ++t) x[t + 1] = step(x[t], a[t]);
  std::vector<double> g(n);
  Vec2 lam;  // dJ/dx_{t+1} through the cost of x_{t+1} and everything after it
  for (int t = n - 1; t >= 0; --t) {
    // lambda_{t+1} = 2 Q x_{t+1} + A' lambda_{t+2}; A' = [[1, 0], [h, 1]].
    lam = {2 * x[t + 1].p + lam.p, 2 * kQv * x[t + 1].v + kH * lam.p + lam.v};
    g[t] = 2 * kR * a[t] + kH * kH * lam.p + kH * lam.v;
  }
  return g;
}

int sign_at_bound(double a) { return a >= kLimit ? 1 : (a <= -kLimit ? -1 : 0); }

QpCertificate certify(Vec2 x0, const std::vector<double>& a) {
  const std::vector<double> g = gradient(x0, a);
  QpCertificate c;
  double residual_sq = 0, slack = 0;
  for (size_t t = 0; t < a.size(); ++t) {
    c.primal_feasibility = std::max(c.primal_feasibility, std::fabs(a[t]) - kLimit);
    // At a bound the multiplier is -g, kept only with its admissible sign (>= 0 at +2,
    // <= 0 at -2); whatever it cannot absorb stays in the stationarity residual.
    const int s = sign_at_bound(a[t]);
    double mu = 0;
    if (s != 0) {
      ++c.saturated;
      mu = s * std::max(0.0, -s * g[t]);
      c.dual_feasibility = std::max(c.dual_feasibility, std::max(0.0, s * g[t]));
      const double dist = kLimit - std::fabs(a[t]);
      c.complementarity = std::max(c.complementarity, std::fabs(mu * dist));
      slack += std::fabs(mu) * std::max(0.0, dist);
    }
    const double rho = g[t] + mu;
    c.stationarity = std::max(c.stationarity, std::fabs(rho));
    residual_sq += rho * rho;
  }
  c.primal_feasibility = std::max(0.0, c.primal_feasibility);
  // Weak duality with L(b) = J(b) + sum_t mu_t (b_t - bound_t): J* >= min_b L(b)
  // = L(a) - rho' H^-1 rho / 2 >= J(a) - slack - |rho|^2 / (2 * 2r), since H >= 2r I.
  c.duality_gap_bound = slack + residual_sq / (4 * kR);
  return c;
}

// Primal-dual active set: held at +-2 where the multiplier test says so, free
// elsewhere; stops when the partition repeats. Returns false if it does not settle.
bool active_set(Vec2 x0, std::vector<double>& a, int max_iterations, int& iterations) {
  const int n = static_cast<int>(a.size());
  std::vector<int> side(n), next(n);
  for (int t = 0; t < n; ++t) side[t] = sign_at_bound(a[t]);
  for (int it = 0; it < max_iterations; ++it) {
    a = riccati_solve(x0, side);
    ++iterations;
    const std::vector<double> g = gradient(x0, a);
    double scale = 0;
    for (double gi : g) scale = std::max(scale, std::fabs(gi));
    // Round-off tolerances, so that a multiplier or a bound distance that is zero up
    // to rounding does not flip the partition back and forth.
    const double tol_mu = 1e-12 * (1 + scale), tol_a = 1e-12;
    for (int t = 0; t < n; ++t) {
      if (side[t] == 0) {
        next[t] = a[t] > kLimit + tol_a ? 1 : (a[t] < -kLimit - tol_a ? -1 : 0);
      } else {
        // mu = -g at a held action; it stays held while mu has the bound's sign.
        const double mu = -g[t];
        next[t] = side[t] * mu > -tol_mu ? side[t] : 0;
      }
    }
    if (next == side) return true;
    side.swap(next);
  }
  return false;
}

// Primal active set (Nocedal & Wright, Numerical Optimization, Alg. 16.3): stays
// feasible, J never increases, one bound enters or leaves per step, so it cannot
// cycle the way the primal-dual method can on bang-bang stretches; it takes more
// (equally cheap) steps. Starts from any feasible `a`, with the actions at a bound held.
void primal_active_set(Vec2 x0, std::vector<double>& a, int& iterations) {
  const int n = static_cast<int>(a.size());
  std::vector<int> side(n);
  for (int t = 0; t < n; ++t) {
    a[t] = std::clamp(a[t], -kLimit, kLimit);
    side[t] = sign_at_bound(a[t]);
  }
  // Each step adds or drops one bound; a strictly convex QP revisits no working set.
  for (int it = 0; it < 8 * n + 100; ++it) {
    const std::vector<double> target = riccati_solve(x0, side);
    ++iterations;
    double alpha = 1;
    int blocking = -1;
    for (int t = 0; t < n; ++t) {
      const double d = target[t] - a[t];
      if (side[t] != 0 || d == 0) continue;
      const double bound = d > 0 ? kLimit : -kLimit;
      if (std::fabs(target[t]) > kLimit && (bound - a[t]) / d < alpha) {
        alpha = (bound - a[t]) / d;
        blocking = t;
      }
    }
    for (int t = 0; t < n; ++t) {
      if (side[t] == 0) a[t] = std::clamp(a[t] + alpha * (target[t] - a[t]), -kLimit, kLimit);
    }
    if (blocking >= 0) {
      side[blocking] = target[blocking] > 0 ? 1 : -1;
      a[blocking] = side[blocking] * kLimit;
      continue;
    }
    // At the minimiser over this working set: drop the bound whose multiplier
    // (mu = -g) has the most wrong sign, or stop if none has.
    const std::vector<double> g = gradient(x0, a);
    double scale = 0;
    for (double gi : g) scale = std::max(scale, std::fabs(gi));
    double worst = 1e-12 * (1 + scale);
    int drop = -1;
    for (int t = 0; t < n; ++t) {
      if (side[t] != 0 && side[t] * g[t] > worst) {
        worst = side[t] * g[t];
        drop = t;
      }
    }
    if (drop < 0) return;
    side[drop] = 0;
  }
}

}  // namespace

void QpCertificate::merge(const QpCertificate& o) {
  stationarity = std::max(stationarity, o.stationarity);
  primal_feasibility = std::max(primal_feasibility, o.primal_feasibility);
  dual_feasibility = std::max(dual_feasibility, o.dual_feasibility);
  complementarity = std::max(complementarity, o.complementarity);
  duality_gap_bound = std::max(duality_gap_bound, o.duality_gap_bound);
  iterations = std::max(iterations, o.iterations);
  saturated = std::max(saturated, o.saturated);
  fallback = fallback || o.fallback;
}

double point_mass_axis_cost(double pos, double vel, const std::vector<double>& actions) {
  double cost = 0;
  for (double a : actions) {
    vel = vel + kH * a;
    pos = pos + kH * vel;
    cost += pos * pos + kQv * vel * vel + kR * a * a;
  }
  return cost;
}

AxisOptimum solve_point_mass_axis(double pos, double vel, const QpOptions& options) {
  if (!std::isfinite(pos) || !std::isfinite(vel)) {
    throw std::invalid_argument("point-mass optimum: pos and vel must be finite, got pos=" +
                                std::to_string(pos) + ", vel=" + std::to_string(vel));
  }
  if (options.steps < 1) {
    throw std::invalid_argument("point-mass optimum: steps=" + std::to_string(options.steps) +
                                ": must be >= 1");
  }
  const Vec2 x0{pos, vel};
  AxisOptimum r;
  r.actions = clipped_lqr_rollout(x0, options.steps);
  int iterations = 0;
  const bool settled = active_set(x0, r.actions, options.max_active_set_iterations, iterations);
  if (!settled) primal_active_set(x0, r.actions, iterations);
  // The primal-dual method accepts free actions up to 1e-12 outside the box; the answer
  // certified and returned is the feasible one (the cost changes below round-off).
  for (double& a : r.actions) a = std::clamp(a, -kLimit, kLimit);
  r.cost = point_mass_axis_cost(pos, vel, r.actions);
  r.certificate = certify(x0, r.actions);
  r.certificate.iterations = iterations;
  r.certificate.fallback = !settled;
  // Round-off leaves residuals ~1e-16 relative; anything near the tolerance is a bug.
  const QpCertificate& c = r.certificate;
  const double tol = kCertificateTolerance * (1 + r.cost);
  if (!(c.stationarity <= tol && c.dual_feasibility <= tol && c.primal_feasibility == 0 &&
        c.duality_gap_bound <= tol)) {
    throw std::runtime_error(
        "point-mass optimum from pos=" + std::to_string(pos) + ", vel=" + std::to_string(vel) +
        ": the KKT certificate failed (stationarity " + std::to_string(c.stationarity) +
        ", dual feasibility " + std::to_string(c.dual_feasibility) + ", primal feasibility " +
        std::to_string(c.primal_feasibility) + ", duality gap bound " +
        std::to_string(c.duality_gap_bound) + ")");
  }
  return r;
}

}  // namespace vecsac
