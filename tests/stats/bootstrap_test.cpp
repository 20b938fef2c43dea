/// @brief The percentile bootstrap: contains the estimate, shrinks with runs, reproducible,
/// degenerate on identical runs, and matches the normal approximation for many runs.
#include "vecsac/stats/bootstrap.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "vecsac/stats/descriptive.h"

namespace vecsac::stats {
namespace {

double mean_of(std::span<const double> x) { return mean(x); }
double iqm_of(std::span<const double> x) { return iqm(x); }

// A deterministic, irregular sample in (-1, 0): the fractional parts of i times
// the golden ratio (no time seeding, so a failure reproduces).
std::vector<double> scores(int n) {
  std::vector<double> x;
  for (int i = 1; i <= n; ++i) x.push_back(-std::fmod(i * 0.6180339887498949, 1.0));
  return x;
}

TEST(BootstrapTest, IntervalContainsThePointEstimate) {
  const std::vector<double> x = {-4.70, -4.72, -3.80, -3.60, -3.55, -12.25, 0.125};
  const BootstrapOptions opt;
  const Interval m = percentile_bootstrap_ci(x, mean_of, opt);
  EXPECT_LE(m.lo, mean(x));
  EXPECT_GE(m.hi, mean(x));
  EXPECT_LT(m.lo, m.hi);
  const Interval q = percentile_bootstrap_ci(x, iqm_of, opt);
  EXPECT_LE(q.lo, iqm(x));
  EXPECT_GE(q.hi, iqm(x));
  // Resampled IQMs never leave the range of the runs.
  EXPECT_GE(q.lo, -12.25);
  EXPECT_LE(q.hi, 0.125);
}

TEST(BootstrapTest, IntervalShrinksWithMoreRuns) {
  const BootstrapOptions opt;
  const Interval few = percentile_bootstrap_ci(scores(5), mean_of, opt);
  const Interval many = percentile_bootstrap_ci(scores(80), mean_of, opt);
  // The width goes as 1/sqrt(n): 16 times the runs, about a quarter of the width.
  EXPECT_LT(many.hi - many.lo, 0.5 * (few.hi - few.lo));
  const Interval iqm_few = percentile_bootstrap_ci(scores(5), iqm_of, opt);
  const Interval iqm_many = percentile_bootstrap_ci(scores(80), iqm_of, opt);
  EXPECT_LT(iqm_many.hi - iqm_many.lo, 0.5 * (iqm_few.hi - iqm_few.lo));
}

TEST(BootstrapTest, SameSeedSameIntervalOtherSeedAnother) {
  const std::vector<double> x = scores(9);
  const BootstrapOptions a{/*reps=*/500, /*seed=*/7, /*confidence=*/0.95};
  const Interval first = percentile_bootstrap_ci(x, mean_of, a);
  const Interval again = percentile_bootstrap_ci(x, mean_of, a);
  EXPECT_EQ(first.lo, again.lo);
  EXPECT_EQ(first.hi, again.hi);
  const Interval other =
      percentile_bootstrap_ci(x, mean_of, {/*reps=*/500, /*seed=*/8, /*confidence=*/0.95});
  EXPECT_TRUE(other.lo != first.lo || other.hi != first.hi);
}

TEST(BootstrapTest, IdenticalRunsGiveAPointInterval) {
  const std::vector<double> same(6, -4.07);
  for (auto* stat : {mean_of, iqm_of}) {
    const Interval ci = percentile_bootstrap_ci(same, stat, {});
    EXPECT_DOUBLE_EQ(ci.lo, -4.07);
    EXPECT_DOUBLE_EQ(ci.hi, -4.07);
  }
  const Interval one = percentile_bootstrap_ci(std::vector<double>{3.5}, mean_of, {});
  EXPECT_EQ(one.lo, 3.5);
  EXPECT_EQ(one.hi, 3.5);
}

TEST(BootstrapTest, MeanIntervalApproachesTheNormalOneForManyRuns) {
  // For many runs the bootstrap distribution of the mean is close to normal with
  // sd = std / sqrt(n): this checks the resampling is uniform and with replacement.
  const std::vector<double> x = scores(400);
  const Interval ci = percentile_bootstrap_ci(x, mean_of, {/*reps=*/4000, /*seed=*/0, 0.95});
  const double half = 1.959963984540054 * population_std(x) / std::sqrt(400.0);
  EXPECT_NEAR(ci.hi - ci.lo, 2 * half, 0.1 * 2 * half);
  EXPECT_NEAR(0.5 * (ci.lo + ci.hi), mean(x), 0.1 * half);
}

TEST(BootstrapTest, BadArgumentsAreErrors) {
  const std::vector<double> x = {1, 2};
  EXPECT_THROW(percentile_bootstrap_ci(std::vector<double>{}, mean_of, {}), std::invalid_argument);
  EXPECT_THROW(percentile_bootstrap_ci(x, mean_of, {/*reps=*/0, 0, 0.95}), std::invalid_argument);
  EXPECT_THROW(percentile_bootstrap_ci(x, mean_of, {10, 0, /*confidence=*/1.0}),
               std::invalid_argument);
}

}  // namespace
}  // namespace vecsac::stats
