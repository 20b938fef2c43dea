/// @brief Aggregates of a per-run score: point estimates and their bootstrap intervals.
#include "vecsac/stats/aggregate.h"

#include <algorithm>

#include "vecsac/stats/descriptive.h"

namespace vecsac::stats {

nlohmann::json Aggregate::to_json() const {
  return {{"mean", mean},     {"mean_ci", {mean_ci.lo, mean_ci.hi}},
          {"iqm", iqm},       {"iqm_ci", {iqm_ci.lo, iqm_ci.hi}},
          {"median", median}, {"std", std},
          {"min", min},       {"max", max}};
}

Aggregate aggregate(std::span<const double> runs, const BootstrapOptions& options) {
  Aggregate a;
  a.mean = stats::mean(runs);
  // The same seed gives both intervals the same resamples (common random numbers).
  a.mean_ci = percentile_bootstrap_ci(
      runs, [](std::span<const double> x) { return stats::mean(x); }, options);
  a.iqm = stats::iqm(runs);
  a.iqm_ci = percentile_bootstrap_ci(
      runs, [](std::span<const double> x) { return stats::iqm(x); }, options);
  a.median = stats::median(runs);
  a.std = population_std(runs);
  const auto [lo, hi] = std::minmax_element(runs.begin(), runs.end());
  a.min = *lo;
  a.max = *hi;
  return a;
}

}  // namespace vecsac::stats
