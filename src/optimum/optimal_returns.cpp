/// @brief point_mass_optimal_returns, optimality_gap, expected_optimal_return.
#include "vecsac/optimum/optimal_returns.h"

#include <ATen/ops/_to_copy.h>
#include <c10/util/Exception.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "vecsac/optimum/gauss_legendre.h"
#include "vecsac/util/cpu_pool.h"

namespace vecsac {
namespace {

// Worst certificate and fallback count over a set of axis solves.
void merge_into(OptimalReturns& out, const std::vector<QpCertificate>& certificates) {
  for (const QpCertificate& c : certificates) {
    out.certificate.merge(c);
    out.fallbacks += c.fallback ? 1 : 0;
  }
}

}  // namespace

OptimalReturns point_mass_optimal_returns(const double* obs, int64_t n, int dim, int steps) {
  if (dim < 1) throw std::invalid_argument("dim=" + std::to_string(dim) + ": must be >= 1");
  for (int64_t i = 0; i < n * 2 * dim; ++i) {
    if (!std::isfinite(obs[i])) {
      throw std::invalid_argument("start " + std::to_string(i / (2 * dim)) + ", entry " +
                                  std::to_string(i % (2 * dim)) +
                                  " is not finite (NaN and Inf are not allowed)");
    }
  }
  QpOptions options;
  options.steps = steps;
  OptimalReturns out;
  out.returns.assign(n, 0.0);
  std::vector<QpCertificate> certificates(n * dim);
  // ~10 us per axis: chunks of 64 starts keep the threads' overhead small.
  parallel_for(0, n, /*grain_size=*/64, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const double* row = obs + i * 2 * dim;
      double cost = 0;
      for (int j = 0; j < dim; ++j) {
        const AxisOptimum axis = solve_point_mass_axis(row[j], row[dim + j], options);
        cost += axis.cost;
        certificates[i * dim + j] = axis.certificate;
      }
      out.returns[i] = -cost;
    }
  });
  merge_into(out, certificates);
  return out;
}

OptimalReturns point_mass_optimal_returns(const at::Tensor& initial_obs, int steps) {
  TORCH_CHECK(initial_obs.dim() == 2 && initial_obs.size(1) >= 2 && initial_obs.size(1) % 2 == 0,
              "point_mass_optimal_returns: initial_obs must be [N, 2 * dim] "
              "([pos_1..pos_D, vel_1..vel_D] per row), got ",
              initial_obs.sizes());
  const at::Tensor obs = initial_obs.to(at::kCPU, at::kDouble).contiguous();
  return point_mass_optimal_returns(obs.data_ptr<double>(), obs.size(0),
                                    static_cast<int>(obs.size(1) / 2), steps);
}

double optimality_gap(const std::vector<double>& achieved, const std::vector<double>& optimal) {
  if (achieved.size() != optimal.size() || achieved.empty()) {
    throw std::invalid_argument("optimality_gap: " + std::to_string(achieved.size()) +
                                " returns and " + std::to_string(optimal.size()) +
                                " optimal returns; they must be equal in number and >= 1");
  }
  double shortfall = 0, scale = 0;
  for (size_t i = 0; i < achieved.size(); ++i) {
    shortfall += optimal[i] - achieved[i];
    scale += std::fabs(optimal[i]);
  }
  // The sums' common 1/N cancels. Starts all at rest have no scale to measure against.
  return scale > 0 ? shortfall / scale : std::numeric_limits<double>::quiet_NaN();
}

ExpectedOptimum expected_optimal_return(int nodes, int steps) {
  const QuadratureRule rule = gauss_legendre(nodes);
  std::vector<double> grid;  // every (pos, vel) node pair, as one-axis starts
  grid.reserve(2 * static_cast<size_t>(nodes) * nodes);
  for (double pos : rule.nodes) {
    for (double vel : rule.nodes) {
      grid.push_back(pos);
      grid.push_back(vel);
    }
  }
  const OptimalReturns r =
      point_mass_optimal_returns(grid.data(), int64_t{nodes} * nodes, /*dim=*/1, steps);
  // The uniform density on [-1, 1]^2 is 1/4.
  double sum = 0;
  for (int i = 0; i < nodes; ++i) {
    for (int j = 0; j < nodes; ++j) {
      sum += rule.weights[i] * rule.weights[j] * r.returns[static_cast<size_t>(i) * nodes + j];
    }
  }
  return {sum / 4, r.certificate, r.fallbacks};
}

}  // namespace vecsac
