/// @brief The exact optimal control of one point-mass axis: a box-constrained QP over its actions.
///
/// One axis of `PointMass` (env/point_mass.h) over T steps from (pos, vel):
///   a_t in [-2, 2],  vel' = vel + dt a_t,  pos' = pos + dt vel',
///   J(a) = sum_t pos'^2 + 0.1 vel'^2 + 0.001 a_t^2   (the return is -J),
/// with the cost on the state after each step, as the env rewards it. J is a strictly
/// convex quadratic (its Hessian is at least 2 * 0.001 * I), so the optimum is unique.
/// The solver runs in double on the exact (unrounded) dynamics; the env stores its
/// state in float32, so a replayed rollout differs by float32 round-off (~1e-7 relative).
#pragma once

#include <vector>

namespace vecsac {

/// KKT residuals of an answer (a, mu): mu_t = -dJ/da_t at an action on a bound, kept
/// only with the sign that bound admits (>= 0 at +2, <= 0 at -2), and 0 elsewhere.
/// All are >= 0; the first four would be exactly 0 in exact arithmetic.
struct QpCertificate {
  double stationarity = 0;        ///< max_t |dJ/da_t + mu_t|: the Lagrangian's gradient
  double primal_feasibility = 0;  ///< max violation of -2 <= a_t <= 2
  double dual_feasibility = 0;    ///< max wrong-sign part of -dJ/da_t at a bound
  double complementarity = 0;     ///< max |mu_t| * distance of a_t to the bound it is held at
  /// Upper bound on J(a) - J*, from weak duality: sum_t |mu_t| * distance plus
  /// ||dJ/da + mu||_2^2 / (2 lambda_min(H)), with lambda_min(H) >= 2 * 0.001.
  double duality_gap_bound = 0;
  int iterations = 0;     ///< Riccati solves (active-set steps) it took
  int saturated = 0;      ///< actions at a bound in the answer
  bool fallback = false;  ///< the primal-dual method did not settle; the primal one finished

  /// Elementwise worst case (max) of two certificates; iterations and saturated also max.
  void merge(const QpCertificate& other);
};

/// Every certificate entry must be at most this times (1 + J) or the solve throws.
inline constexpr double kCertificateTolerance = 1e-9;

struct AxisOptimum {
  std::vector<double> actions;  ///< a_0 .. a_{T-1}, each in [-2, 2]
  double cost = 0;              ///< J(actions): the optimal return is -cost
  QpCertificate certificate;
};

struct QpOptions {
  int steps = 200;  ///< horizon T (the env's max_episode_steps)
  /// Primal-dual active-set steps before falling back to the primal active-set
  /// method: the former can cycle on this QP, the latter cannot but takes more steps.
  int max_active_set_iterations = 20;
};

/// Solves one axis from (pos, vel): primal-dual active set (semismooth Newton),
/// warm-started from the clipped LQR policy, each step one O(T) Riccati solve.
/// Throws std::invalid_argument on a non-finite pos or vel and std::runtime_error if
/// the certificate misses kCertificateTolerance.
AxisOptimum solve_point_mass_axis(double pos, double vel, const QpOptions& options = {});

/// J(actions) of one axis from (pos, vel), with the env's association; actions
/// are used as given (not clipped).
double point_mass_axis_cost(double pos, double vel, const std::vector<double>& actions);

}  // namespace vecsac
