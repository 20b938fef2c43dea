/// @brief gauss_legendre.
#include "vecsac/optimum/gauss_legendre.h"

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

namespace vecsac {
namespace {

struct Legendre {
  double value, derivative;
};

// P_n(x) and P_n'(x) by the three-term recurrence (|x| < 1).
Legendre legendre(int n, double x) {
  double p0 = 1, p1 = x;
  for (int k = 2; k <= n; ++k) {
    const double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
    p0 = p1;
    p1 = p2;
  }
  return {p1, n * (x * p1 - p0) / (x * x - 1)};
}

}  // namespace

QuadratureRule gauss_legendre(int n) {
  if (n < 1) {
    throw std::invalid_argument("gauss_legendre: n=" + std::to_string(n) + ": must be >= 1");
  }
  QuadratureRule q{std::vector<double>(n), std::vector<double>(n)};
  // Roots come in +- pairs: find the non-negative half and mirror it.
  for (int i = 0; i < (n + 1) / 2; ++i) {
    double x = std::cos(std::numbers::pi * (i + 0.75) / (n + 0.5));
    for (int it = 0; it < 100; ++it) {
      const Legendre p = legendre(n, x);
      const double dx = p.value / p.derivative;
      x -= dx;
      if (std::fabs(dx) < 1e-15) break;  // quadratic convergence: what is left is ~dx^2
    }
    if (2 * i + 1 == n) x = 0;  // the middle root of an odd rule
    const double dp = legendre(n, x).derivative;
    q.nodes[n - 1 - i] = x;
    q.nodes[i] = -x;
    q.weights[i] = q.weights[n - 1 - i] = 2 / ((1 - x * x) * dp * dp);
  }
  return q;
}

}  // namespace vecsac
