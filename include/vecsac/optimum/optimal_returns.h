/// @brief Exact optimal point-mass returns of a batch of starts, the optimality gap, and
/// the expected optimum over resets.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "vecsac/optimum/point_mass_qp.h"

namespace vecsac {

struct OptimalReturns {
  std::vector<double> returns;  ///< per start: -(sum over axes of the axis optimum)
  QpCertificate certificate;    ///< worst case over every start and axis
  int64_t fallbacks = 0;        ///< axis solves the primal active-set fallback finished
};

/// The best `steps`-step return of the point mass from each of `n` starts. `obs` is
/// row-major [n, 2 * dim], each row [pos_1..pos_D, vel_1..vel_D] as the env observes it.
/// The axes are independent, so each return is the sum of `dim` single-axis optima.
/// Throws std::invalid_argument on a non-finite entry or a bad dim/steps.
OptimalReturns point_mass_optimal_returns(const double* obs, int64_t n, int dim, int steps = 200);

/// The same for a tensor of initial observations [N, 2 * dim] (any float dtype and
/// device, e.g. EvalResult::initial_obs); dim is size(1) / 2.
OptimalReturns point_mass_optimal_returns(const at::Tensor& initial_obs, int steps = 200);

/// mean(optimal - achieved) / mean(|optimal|): 0 for an optimal policy, > 0 otherwise
/// (up to the env's float32 round-off); NaN when every optimal return is 0 (all starts
/// at rest). Throws std::invalid_argument on a size mismatch or empty input.
double optimality_gap(const std::vector<double>& achieved, const std::vector<double>& optimal);

struct ExpectedOptimum {
  double value = 0;           ///< E[optimal return of one axis]
  QpCertificate certificate;  ///< worst case over the grid's nodes
  int64_t fallbacks = 0;
};

/// E[optimal return of one axis] for pos, vel ~ U(-1, 1) independently (the env's
/// reset), by the nodes x nodes tensor Gauss–Legendre rule; D axes give D times this.
ExpectedOptimum expected_optimal_return(int nodes, int steps = 200);

}  // namespace vecsac
