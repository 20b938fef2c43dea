/// @brief The aggregate of one score over runs: its parts and its JSON.
#include "vecsac/stats/aggregate.h"

#include <gtest/gtest.h>

#include <vector>

#include "vecsac/stats/descriptive.h"

namespace vecsac::stats {
namespace {

TEST(AggregateTest, CombinesThePointStatisticsAndBothIntervals) {
  const std::vector<double> x = {-4.70, -4.72, -3.80, -3.60, -3.55};
  const BootstrapOptions opt{/*reps=*/300, /*seed=*/4, /*confidence=*/0.95};
  const Aggregate a = aggregate(x, opt);
  EXPECT_EQ(a.mean, mean(x));
  EXPECT_EQ(a.iqm, iqm(x));
  EXPECT_DOUBLE_EQ(a.iqm, (-4.70 - 3.80 - 3.60) / 3);
  EXPECT_EQ(a.median, -3.80);
  EXPECT_EQ(a.std, population_std(x));
  EXPECT_EQ(a.min, -4.72);
  EXPECT_EQ(a.max, -3.55);
  const Interval m = percentile_bootstrap_ci(
      x, [](auto s) { return mean(s); }, opt);
  const Interval q = percentile_bootstrap_ci(
      x, [](auto s) { return iqm(s); }, opt);
  EXPECT_EQ(a.mean_ci.lo, m.lo);
  EXPECT_EQ(a.mean_ci.hi, m.hi);
  EXPECT_EQ(a.iqm_ci.lo, q.lo);
  EXPECT_EQ(a.iqm_ci.hi, q.hi);

  const nlohmann::json j = a.to_json();
  for (const char* key : {"mean", "mean_ci", "iqm", "iqm_ci", "median", "std", "min", "max"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j.size(), 8u);
  EXPECT_EQ(j["iqm_ci"], nlohmann::json::array({q.lo, q.hi}));
  EXPECT_THROW(aggregate(std::vector<double>{}, opt), std::invalid_argument);
}

}  // namespace
}  // namespace vecsac::stats
