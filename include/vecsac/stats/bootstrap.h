/// @brief Percentile-bootstrap confidence intervals over runs (rliable's interval estimates).
#pragma once

#include <cstdint>
#include <functional>
#include <span>

namespace vecsac::stats {

struct BootstrapOptions {
  int64_t reps = 2000;       ///< resamples B (rliable's get_interval_estimates defaults to 50000)
  uint64_t seed = 0;         ///< keys the resampling, so an interval is reproducible
  double confidence = 0.95;  ///< coverage of the two-sided interval
};

struct Interval {
  double lo = 0, hi = 0;
};

/// The percentile bootstrap interval of `statistic` over `runs`: B resamples of
/// n runs drawn with replacement, the statistic of each, then numpy's linear
/// percentiles at 100 a and 100 (1 - a) with a = (1 - confidence) / 2 (arch's
/// conf_int(method="percentile"), which rliable calls). With one task,
/// rliable's stratified bootstrap is exactly this plain bootstrap over runs.
///
/// Resample b's i-th pick comes from Philox4x32-10 keyed on `seed` and counted
/// on (i, b), so it does not depend on B, on the statistic or on the platform.
/// Throws std::invalid_argument for no runs, reps < 1 or confidence outside (0, 1).
Interval percentile_bootstrap_ci(std::span<const double> runs,
                                 const std::function<double(std::span<const double>)>& statistic,
                                 const BootstrapOptions& options);

}  // namespace vecsac::stats
