/// @brief Point statistics against numpy / scipy values (computed with numpy 2.4 and
/// scipy.stats.trim_mean's definition) and by hand.
#include "vecsac/stats/descriptive.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace vecsac::stats {
namespace {

// Unsorted on purpose, with a negative outlier and ties of neither.
const std::vector<double> kSeven = {-4.70, -4.72, -3.80, -3.60, -3.55, -12.25, 0.125};

TEST(DescriptiveTest, IqmCutsIntOfAQuarterFromEachEndAsScipyTrimMean) {
  // n = 4: cut 1, mean of the middle 2 of {-1, 2, 3, 10}.
  EXPECT_DOUBLE_EQ(iqm(std::vector<double>{3, -1, 10, 2}), 2.5);
  // n = 5: int(1.25) = 1, mean of {2, 4, 5}.
  EXPECT_DOUBLE_EQ(iqm(std::vector<double>{5, 1, 4, 2, 100}), 11.0 / 3);
  // n = 7: int(1.75) = 1, mean of {0, 1, 2, 4, 7}.
  EXPECT_DOUBLE_EQ(iqm(std::vector<double>{7, -3, 0, 1, 2, 50, 4}), 2.8);
  // n = 8: cut 2, mean of {3, 4, 5, 6}.
  EXPECT_DOUBLE_EQ(iqm(std::vector<double>{8, 1, 6, 3, 5, 2, 7, 4}), 4.5);
  // n < 4 cuts nothing.
  EXPECT_DOUBLE_EQ(iqm(std::vector<double>{1, 2, 9}), 4.0);
  EXPECT_DOUBLE_EQ(iqm(std::vector<double>{-7}), -7.0);
  EXPECT_DOUBLE_EQ(iqm(kSeven), -4.074);  // scipy.stats.trim_mean(kSeven, 0.25)
}

TEST(DescriptiveTest, TrimMeanMatchesScipyForOtherProportions) {
  EXPECT_DOUBLE_EQ(trim_mean(kSeven, 0.0), mean(kSeven));
  EXPECT_DOUBLE_EQ(trim_mean(kSeven, 0.1), mean(kSeven));  // int(0.7) = 0
  EXPECT_DOUBLE_EQ(trim_mean(kSeven, 0.5), -3.8);          // odd n keeps the median
  // scipy raises "Proportion too big." when nothing is left.
  EXPECT_THROW(trim_mean(std::vector<double>{1, 2, 3, 4}, 0.5), std::invalid_argument);
  EXPECT_THROW(trim_mean(kSeven, -0.1), std::invalid_argument);
  EXPECT_THROW(trim_mean(kSeven, 0.6), std::invalid_argument);
}

TEST(DescriptiveTest, PercentileIsNumpysLinearMethod) {
  // np.percentile(kSeven, q) for each q.
  EXPECT_DOUBLE_EQ(percentile(kSeven, 0), -12.25);
  EXPECT_DOUBLE_EQ(percentile(kSeven, 2.5), -11.1205);
  EXPECT_DOUBLE_EQ(percentile(kSeven, 25), -4.71);
  EXPECT_DOUBLE_EQ(percentile(kSeven, 50), -3.8);
  EXPECT_DOUBLE_EQ(percentile(kSeven, 97.5), -0.42625000000000124);
  EXPECT_DOUBLE_EQ(percentile(kSeven, 100), 0.125);
  // By hand on {1, 2, 3, 4}: h = 3 q / 100.
  const std::vector<double> four = {4, 1, 3, 2};
  EXPECT_DOUBLE_EQ(percentile(four, 2.5), 1.075);
  EXPECT_DOUBLE_EQ(percentile(four, 97.5), 3.925);
  EXPECT_DOUBLE_EQ(percentile(std::vector<double>{5}, 37), 5.0);
  EXPECT_THROW(percentile(kSeven, 100.5), std::invalid_argument);
  EXPECT_THROW(percentile(kSeven, -1), std::invalid_argument);
}

TEST(DescriptiveTest, MeanMedianStdMatchNumpy) {
  EXPECT_DOUBLE_EQ(mean(kSeven), -4.642142857142858);
  EXPECT_DOUBLE_EQ(median(kSeven), -3.8);
  EXPECT_DOUBLE_EQ(median(std::vector<double>(kSeven.begin(), kSeven.begin() + 6)), -4.25);
  EXPECT_DOUBLE_EQ(population_std(kSeven), 3.455897502967993);  // np.std, ddof = 0
  EXPECT_DOUBLE_EQ(population_std(std::vector<double>{2, 2, 2}), 0.0);
}

TEST(DescriptiveTest, EmptySamplesAreErrors) {
  const std::vector<double> none;
  EXPECT_THROW(mean(none), std::invalid_argument);
  EXPECT_THROW(population_std(none), std::invalid_argument);
  EXPECT_THROW(median(none), std::invalid_argument);
  EXPECT_THROW(percentile(none, 50), std::invalid_argument);
  EXPECT_THROW(iqm(none), std::invalid_argument);
}

}  // namespace
}  // namespace vecsac::stats
