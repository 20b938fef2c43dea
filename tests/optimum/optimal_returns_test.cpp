/// @brief Batches of starts: axes add up, tensors and doubles agree, the gap, the expectation.
#include "vecsac/optimum/optimal_returns.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "vecsac/optimum/gauss_legendre.h"

namespace vecsac {
namespace {

// configs/eval/pointmass_notebook_starts.json, rounded to float32 as the env stores them.
const float kNotebookStarts[8][2] = {
    {0.03338080644607544f, -0.1526016891002655f},  {0.4296128451824188f, 0.2589404582977295f},
    {0.27037179470062256f, -0.49997004866600037f}, {0.37632372975349426f, 0.476248562335968f},
    {0.6788052916526794f, -0.39596688747406006f},  {-0.5774425864219666f, -0.3433234691619873f},
    {-0.7208393216133118f, 0.43258431553840637f},  {0.6466055512428284f, -0.896004855632782f}};

TEST(OptimalReturnsTest, NotebookStartsMeanIsTheKnownOptimum) {
  const at::Tensor obs = at::from_blob(const_cast<float*>(&kNotebookStarts[0][0]), {8, 2}).clone();
  const OptimalReturns r = point_mass_optimal_returns(obs);
  ASSERT_EQ(r.returns.size(), 8u);
  double mean = 0;
  for (double x : r.returns) mean += x / 8;
  EXPECT_NEAR(mean, -2.5150, 5e-5);
  EXPECT_EQ(r.fallbacks, 0);
  EXPECT_LE(r.certificate.iterations, 5);
  EXPECT_LE(r.certificate.stationarity, 1e-14);
}

TEST(OptimalReturnsTest, ADim2StartsReturnIsTheSumOfItsAxes) {
  // Row layout [pos_1, pos_2, vel_1, vel_2].
  const std::vector<double> two = {1.0, -0.3, 1.0, 0.6, 0.2, 0.9, -2.5, 0.1};
  const OptimalReturns r = point_mass_optimal_returns(two.data(), /*n=*/2, /*dim=*/2);
  for (int i = 0; i < 2; ++i) {
    const double* s = &two[4 * i];
    const double sum =
        -solve_point_mass_axis(s[0], s[2]).cost - solve_point_mass_axis(s[1], s[3]).cost;
    EXPECT_NEAR(r.returns[i], sum, 1e-12 * std::fabs(sum));
  }
  EXPECT_GT(r.certificate.saturated, 0);  // the first axis (1, 1) saturates
}

TEST(OptimalReturnsTest, TensorOverloadMatchesTheDoubles) {
  const std::vector<double> rows = {0.5, -0.5, 0.25, 0.75, -0.125, 1.5};
  const OptimalReturns d = point_mass_optimal_returns(rows.data(), /*n=*/3, /*dim=*/1);
  const at::Tensor t = at::tensor(rows, at::kDouble).reshape({3, 2});
  EXPECT_EQ(point_mass_optimal_returns(t).returns, d.returns);
  // These values are exact in float32, so the float tensor gives the same answers.
  EXPECT_EQ(point_mass_optimal_returns(t.to(at::kFloat)).returns, d.returns);
  // Many starts go through the parallel loop; each equals its own solve.
  const at::Tensor many = at::stack(
      {at::linspace(-1, 1, 300, at::kDouble), at::linspace(1, -1, 300, at::kDouble).roll(7)},
      /*dim=*/1);
  const OptimalReturns m = point_mass_optimal_returns(many);
  for (int64_t i = 0; i < 300; i += 37) {
    const double p = many[i][0].item<double>(), v = many[i][1].item<double>();
    EXPECT_EQ(m.returns[i], -solve_point_mass_axis(p, v).cost);
  }
}

TEST(OptimalReturnsTest, RejectsNonFiniteStartsAndBadShapes) {
  const std::vector<double> bad = {0.1, NAN};
  EXPECT_THROW(point_mass_optimal_returns(bad.data(), 1, 1), std::invalid_argument);
  EXPECT_THROW(point_mass_optimal_returns(at::zeros({3, 3})), c10::Error);
  EXPECT_THROW(point_mass_optimal_returns(at::zeros({3})), c10::Error);
}

TEST(OptimalReturnsTest, OptimalityGapIsRelativeShortfall) {
  EXPECT_EQ(optimality_gap({-2, -4}, {-2, -4}), 0);
  EXPECT_DOUBLE_EQ(optimality_gap({-3, -6}, {-2, -4}), 0.5);
  EXPECT_THROW(optimality_gap({-1}, {-1, -2}), std::invalid_argument);
  EXPECT_THROW(optimality_gap({}, {}), std::invalid_argument);
}

TEST(OptimalReturnsTest, ExpectedOptimumConvergesAsTheGridGrows) {
  const ExpectedOptimum coarse = expected_optimal_return(16), fine = expected_optimal_return(64);
  EXPECT_LT(fine.value, 0);
  EXPECT_NEAR(coarse.value, fine.value, 1e-3 * std::fabs(fine.value));
  EXPECT_LE(fine.certificate.duality_gap_bound, 1e-12);
}

TEST(GaussLegendreTest, IntegratesPolynomialsOfDegree2nMinus1Exactly) {
  for (int n : {1, 2, 3, 4, 7, 16, 33, 200}) {
    const QuadratureRule q = gauss_legendre(n);
    ASSERT_EQ(q.nodes.size(), static_cast<size_t>(n));
    for (int i = 0; i + 1 < n; ++i) EXPECT_LT(q.nodes[i], q.nodes[i + 1]);
    for (int k = 0; k <= 2 * n - 1; ++k) {
      double sum = 0;
      for (int i = 0; i < n; ++i) sum += q.weights[i] * std::pow(q.nodes[i], k);
      const double exact = k % 2 == 1 ? 0 : 2.0 / (k + 1);
      EXPECT_NEAR(sum, exact, 1e-13) << "n=" << n << " k=" << k;
    }
  }
  EXPECT_THROW(gauss_legendre(0), std::invalid_argument);
}

}  // namespace
}  // namespace vecsac
