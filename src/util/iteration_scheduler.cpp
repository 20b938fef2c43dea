#include "vecsac/util/iteration_scheduler.h"

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>

namespace vecsac {

IterationScheduler::IterationScheduler(int64_t units, int64_t turn)
    : turn_(turn),
      iterations_(static_cast<size_t>(std::max<int64_t>(units, 0)), 0),
      in_hand_(iterations_.size(), false),
      done_(iterations_.size(), false) {
  if (units < 1 || turn < 1) {
    throw std::invalid_argument(
        "IterationScheduler: needs at least one unit and a turn of at "
        "least one iteration, got " +
        std::to_string(units) + " and " + std::to_string(turn));
  }
}

IterationScheduler::Turn IterationScheduler::take() {
  std::unique_lock lock(mutex_);
  const auto n = static_cast<int64_t>(iterations_.size());
  while (!failed_) {
    const bool any_in_hand = std::find(in_hand_.begin(), in_hand_.end(), true) != in_hand_.end();
    if (stopping_ && any_in_hand) {  // the furthest iteration is known when every turn ends
      changed_.wait(lock);
      continue;
    }
    int64_t leader = 0, slowest = INT64_MAX;
    for (int64_t u = 0; u < n; ++u) {
      leader = std::max(leader, iterations_[u]);
      if (!done_[u]) slowest = std::min(slowest, iterations_[u]);
    }
    int64_t best = -1;
    for (int64_t u = 0; u < n; ++u) {
      if (in_hand_[u] || done_[u] || iterations_[u] > slowest + turn_ ||
          (stopping_ && iterations_[u] >= leader)) {
        continue;
      }
      if (best < 0 || iterations_[u] < iterations_[best]) best = u;
    }
    if (best >= 0) {
      in_hand_[best] = true;
      return {best, stopping_ ? leader - iterations_[best] : turn_};
    }
    if (!any_in_hand) return {};
    changed_.wait(lock);
  }
  return {};
}

void IterationScheduler::release(int64_t unit, int64_t ran, bool done) {
  {
    const std::lock_guard lock(mutex_);
    const auto u = static_cast<size_t>(unit);
    if (unit < 0 || u >= in_hand_.size() || !in_hand_[u]) {
      throw std::logic_error("IterationScheduler::release: unit " + std::to_string(unit) +
                             " is not in hand");
    }
    in_hand_[u] = false;
    done_[u] = done;
    iterations_[u] += ran;
  }
  changed_.notify_all();
}

void IterationScheduler::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
}

void IterationScheduler::fail() {
  {
    const std::lock_guard lock(mutex_);
    failed_ = true;
  }
  changed_.notify_all();
}

std::vector<int64_t> IterationScheduler::iterations() const {
  const std::lock_guard lock(mutex_);
  return iterations_;
}

}  // namespace vecsac
