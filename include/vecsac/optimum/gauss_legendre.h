/// @brief Gauss–Legendre quadrature nodes and weights on [-1, 1].
#pragma once

#include <vector>

namespace vecsac {

struct QuadratureRule {
  std::vector<double> nodes;    ///< ascending, in (-1, 1)
  std::vector<double> weights;  ///< positive, summing to 2
};

/// The n-point rule, exact for polynomials of degree <= 2n - 1. Nodes are the roots
/// of P_n found by Newton's method from Tricomi's estimate, to round-off (n >= 1).
QuadratureRule gauss_legendre(int n);

}  // namespace vecsac
