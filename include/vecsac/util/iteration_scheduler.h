/// @brief IterationScheduler: hands out turns of iterations of independent units (a
/// population's groups of agents) to worker threads with no barrier between iterations, the
/// unit furthest behind first, and on a stop brings every unit to the same iteration.
///
/// Why no barrier: a barrier after every iteration makes each round as slow as its largest
/// share (5 agents on 2 threads: 3 and 2), and runs everything between rounds on one thread.
/// Why turns of several iterations: a unit's networks, optimizer state and replay leave the
/// core's cache while the others run; a turn pays that once for several iterations.
/// Why a lead bound: groups of unequal size on as many threads as groups would drift apart,
/// and a stop waits for the units behind to catch up.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

namespace vecsac {

class IterationScheduler {
 public:
  /// A worker's turn: `iterations` (at least 1) of unit `unit`; unit -1 when no work is left.
  struct Turn {
    int64_t unit = -1;
    int64_t iterations = 0;
  };

  /// `turn`: the most iterations of one unit in a turn, and the most iterations a unit may
  /// be ahead of the slowest unfinished one when its turn starts.
  IterationScheduler(int64_t units, int64_t turn);

  /// The next turn: of the units not in hand, not done and at most `turn` iterations ahead
  /// of the slowest unfinished one, the one with the fewest iterations (the lowest index
  /// among equals). Waits while there is none but a unit is in another worker's hand. After
  /// stop(), waits for every turn in hand to end, then gives the units behind the furthest
  /// one the iterations that bring them level. Unit -1 when no work is left for any worker:
  /// every unit done, failed, or stopped and level.
  Turn take();
  /// Unit `unit`'s turn is over after `ran` iterations (fewer than given when its work ended
  /// or a stop was requested); `done`: it needs no more.
  void release(int64_t unit, int64_t ran, bool done);
  /// Ends the run at the furthest unit's iteration (the others catch up to it, then take()
  /// gives no more). Workers holding a turn end it after their current iteration themselves.
  void stop();
  /// take() gives no more turns from now on (a worker's iteration threw).
  void fail();

  /// Iterations each unit has finished.
  std::vector<int64_t> iterations() const;

 private:
  const int64_t turn_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<int64_t> iterations_;
  std::vector<bool> in_hand_, done_;
  bool stopping_ = false, failed_ = false;
};

}  // namespace vecsac
