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
      catching_up_(iterations_.size(), false),
      done_(iterations_.size(), false),
      parked_(iterations_.size(), false) {
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
    bool any_in_hand = false, before_stop_in_hand = false, all_parked = true;
    int64_t leader = 0, slowest = INT64_MAX;
    for (int64_t u = 0; u < n; ++u) {
      any_in_hand = any_in_hand || in_hand_[u];
      before_stop_in_hand = before_stop_in_hand || (in_hand_[u] && !catching_up_[u]);
      leader = std::max(leader, iterations_[u]);
      if (done_[u]) continue;
      slowest = std::min(slowest, iterations_[u]);
      all_parked = all_parked && parked_[u];
    }
    // The furthest iteration is known once the turns that began before the stop have ended.
    if (stopping_ && before_stop_in_hand) {
      changed_.wait(lock);
      continue;
    }
    if (all_parked && slowest != INT64_MAX) std::fill(parked_.begin(), parked_.end(), false);
    int64_t best = -1;
    for (int64_t u = 0; u < n; ++u) {
      // Catching up goes no further than the furthest unit: a park may be passed then.
      if (in_hand_[u] || done_[u] || (parked_[u] && !stopping_) ||
          iterations_[u] > slowest + turn_ || (stopping_ && iterations_[u] >= leader)) {
        continue;
      }
      if (best < 0 || iterations_[u] < iterations_[best]) best = u;
    }
    if (best >= 0) {
      in_hand_[best] = true;
      catching_up_[best] = stopping_;
      if (stopping_) return {best, leader - iterations_[best], true};
      return {best, turn_, false};
    }
    if (!any_in_hand) return {};
    changed_.wait(lock);
  }
  return {};
}

void IterationScheduler::release(int64_t unit, int64_t ran, bool done, bool park) {
  {
    const std::lock_guard lock(mutex_);
    const auto u = static_cast<size_t>(unit);
    if (unit < 0 || u >= in_hand_.size() || !in_hand_[u]) {
      throw std::logic_error("IterationScheduler::release: unit " + std::to_string(unit) +
                             " is not in hand");
    }
    in_hand_[u] = false;
    catching_up_[u] = false;
    done_[u] = done;
    parked_[u] = park && !done;
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
