/// @brief Percentile bootstrap over runs with counter-based, platform-independent resampling.
#include "vecsac/stats/bootstrap.h"

#include <Random123/philox.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "vecsac/stats/descriptive.h"

namespace vecsac::stats {
namespace {

/// Pick `i` of resample `rep`: an index in [0, n). Lemire's multiply-shift maps
/// 64 random bits onto [0, n) with a bias below n / 2^64, far under anything a
/// few thousand resamples can resolve; std::uniform_int_distribution is not
/// used because its algorithm differs between standard libraries.
size_t pick(uint64_t seed, int64_t rep, size_t i, size_t n) {
  const r123::Philox4x32::key_type key{
      {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)}};
  const auto r = static_cast<uint64_t>(rep);
  const r123::Philox4x32::ctr_type ctr{{static_cast<uint32_t>(i),
                                        static_cast<uint32_t>(static_cast<uint64_t>(i) >> 32),
                                        static_cast<uint32_t>(r), static_cast<uint32_t>(r >> 32)}};
  const r123::Philox4x32::ctr_type out = r123::Philox4x32()(ctr, key);
  const uint64_t bits = (static_cast<uint64_t>(out.v[0]) << 32) | out.v[1];
  return static_cast<size_t>((static_cast<unsigned __int128>(bits) * n) >> 64);
}

}  // namespace

Interval percentile_bootstrap_ci(std::span<const double> runs,
                                 const std::function<double(std::span<const double>)>& statistic,
                                 const BootstrapOptions& options) {
  if (runs.empty()) throw std::invalid_argument("bootstrap interval of no runs");
  if (options.reps < 1) {
    throw std::invalid_argument("bootstrap reps=" + std::to_string(options.reps) +
                                ": must be >= 1");
  }
  if (!(options.confidence > 0 && options.confidence < 1)) {
    throw std::invalid_argument("bootstrap confidence=" + std::to_string(options.confidence) +
                                ": must be in (0, 1)");
  }
  const size_t n = runs.size();
  std::vector<double> resample(n), stats(static_cast<size_t>(options.reps));
  for (int64_t b = 0; b < options.reps; ++b) {
    for (size_t i = 0; i < n; ++i) resample[i] = runs[pick(options.seed, b, i, n)];
    stats[static_cast<size_t>(b)] = statistic(resample);
  }
  // arch's IIDBootstrap.conf_int(method="percentile", tail="two"), as rliable calls it.
  const double alpha = (1 - options.confidence) / 2;
  return {percentile(stats, 100 * alpha), percentile(stats, 100 * (1 - alpha))};
}

}  // namespace vecsac::stats
