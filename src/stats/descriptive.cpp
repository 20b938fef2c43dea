/// @brief numpy/scipy-equivalent point statistics.
#include "vecsac/stats/descriptive.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace vecsac::stats {
namespace {

void require_nonempty(std::span<const double> x, const char* what) {
  if (x.empty()) throw std::invalid_argument(std::string(what) + " of no values");
}

std::vector<double> sorted(std::span<const double> x) {
  std::vector<double> s(x.begin(), x.end());
  std::sort(s.begin(), s.end());
  return s;
}

}  // namespace

double mean(std::span<const double> x) {
  require_nonempty(x, "mean");
  double sum = 0;
  for (const double v : x) sum += v;
  return sum / static_cast<double>(x.size());
}

double population_std(std::span<const double> x) {
  const double m = mean(x);
  double ss = 0;
  for (const double v : x) ss += (v - m) * (v - m);
  return std::sqrt(ss / static_cast<double>(x.size()));
}

double percentile(std::span<const double> x, double q) {
  require_nonempty(x, "percentile");
  if (!(q >= 0 && q <= 100)) {
    throw std::invalid_argument("percentile q=" + std::to_string(q) + ": must be in [0, 100]");
  }
  const std::vector<double> s = sorted(x);
  // numpy's "linear" method: get_virtual_index = (n - 1) * quantile, then _lerp.
  const double h = static_cast<double>(s.size() - 1) * (q / 100);
  const size_t below = static_cast<size_t>(std::floor(h));
  const size_t above = std::min(below + 1, s.size() - 1);
  const double t = h - static_cast<double>(below), a = s[below], b = s[above];
  const double d = b - a;
  // numpy interpolates from the nearer end, so t = 1 lands exactly on b.
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

double median(std::span<const double> x) {
  require_nonempty(x, "median");
  const std::vector<double> s = sorted(x);
  const size_t n = s.size();
  return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

double trim_mean(std::span<const double> x, double proportion) {
  require_nonempty(x, "trim_mean");
  const size_t n = x.size();
  // scipy: lowercut = int(proportiontocut * nobs), uppercut = nobs - lowercut,
  // and an error when lowercut >= uppercut.
  const bool in_range = proportion >= 0 && proportion <= 0.5;  // also false for NaN
  const size_t cut = in_range ? static_cast<size_t>(proportion * static_cast<double>(n)) : 0;
  if (!in_range || cut >= n - cut) {
    throw std::invalid_argument("trim_mean proportion " + std::to_string(proportion) +
                                " leaves no values of " + std::to_string(n));
  }
  const std::vector<double> s = sorted(x);
  return mean(std::span<const double>(s).subspan(cut, n - 2 * cut));
}

double iqm(std::span<const double> x) { return trim_mean(x, /*proportion=*/0.25); }

}  // namespace vecsac::stats
