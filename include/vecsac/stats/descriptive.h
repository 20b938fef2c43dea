/// @brief Point statistics of a sample of runs, each exactly as numpy or scipy defines it.
#pragma once

#include <span>

namespace vecsac::stats {

// Every function throws std::invalid_argument on an empty sample: an aggregate
// over no runs is a bug upstream, not a number.

/// Arithmetic mean (np.mean).
double mean(std::span<const double> x);

/// Population standard deviation, ddof = 0 (np.std's default, as eval.json's "std").
double population_std(std::span<const double> x);

/// The q-th percentile, q in [0, 100], with numpy's default "linear" method
/// (Hyndman & Fan type 7): virtual index h = (n - 1) q / 100, then linear
/// interpolation between the sorted values at floor(h) and floor(h) + 1, in
/// numpy's two-sided form (a + (b - a) t for t < 0.5, b - (b - a)(1 - t) otherwise).
double percentile(std::span<const double> x, double q);

/// np.median: the middle value, or the mean of the two middle values for even n.
double median(std::span<const double> x);

/// scipy.stats.trim_mean(x, proportion): sorts, drops int(proportion * n)
/// values from each end and averages the rest. Throws when nothing would be left.
double trim_mean(std::span<const double> x, double proportion);

/// Interquartile mean as rliable's metrics.aggregate_iqm: trim_mean(x, 0.25).
/// For n not divisible by 4 it cuts floor(n / 4) runs from each end (n = 5: 1,
/// keeping 3; n = 7: 1, keeping 5); for n < 4 it is the mean.
double iqm(std::span<const double> x);

}  // namespace vecsac::stats
