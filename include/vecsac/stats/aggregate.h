/// @brief One per-run score aggregated over runs: mean and IQM with bootstrap CIs, plus spread.
#pragma once

#include <nlohmann/json.hpp>
#include <span>

#include "vecsac/stats/bootstrap.h"

namespace vecsac::stats {

/// What `vecsac sweep` reports per score (Agarwal et al. 2021, "Deep RL at the
/// Edge of the Statistical Precipice"): the mean and the interquartile mean,
/// each with its percentile-bootstrap interval, and the median, std, min, max.
struct Aggregate {
  double mean = 0;
  Interval mean_ci;
  double iqm = 0;
  Interval iqm_ci;
  double median = 0, std = 0, min = 0, max = 0;  ///< std: population (ddof = 0)
  /// {"mean", "mean_ci": [lo, hi], "iqm", "iqm_ci": [lo, hi], "median", "std", "min", "max"}
  nlohmann::json to_json() const;
};

/// Aggregates one score per run; throws std::invalid_argument for no runs.
Aggregate aggregate(std::span<const double> runs, const BootstrapOptions& options);

}  // namespace vecsac::stats
