/// @brief IterationScheduler: hands out turns of iterations of independent units (a
/// population's groups of agents) to worker threads with no barrier between iterations, the
/// unit furthest behind first; a unit may park at a barrier (a checkpoint) until every unit
/// reaches it, and on a stop every unit is brought to the same iteration.
///
/// Why no barrier between iterations: it makes each round as slow as its largest share (5
/// agents on 2 threads: 3 and 2), and runs everything between rounds on one thread.
/// Why turns of several iterations: a unit's networks, optimizer state and replay leave the
/// core's cache while the others run; a turn pays that once for several iterations.
/// Why a lead bound: units of unequal size on as many threads as units would drift apart,
/// and a stop waits for the units behind to catch up.
/// Why parks: a run keeps only its newest checkpoints, so a unit that ran a checkpoint
/// ahead of another could delete the one step they both have; parked at each checkpoint,
/// every unit always shares the newest or the one before it with every other.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

namespace vecsac {

class IterationScheduler {
 public:
  /// A worker's turn: `iterations` (at least 1) of unit `unit`; unit -1 when no work is left.
  /// `catch_up`: a turn after stop() that brings the unit level with the furthest one; it
  /// runs to its end (a pending stop does not cut it short).
  struct Turn {
    int64_t unit = -1;
    int64_t iterations = 0;
    bool catch_up = false;
  };

  /// `turn`: the most iterations of one unit in a turn, and the most iterations a unit may
  /// be ahead of the slowest unfinished one when its turn starts.
  IterationScheduler(int64_t units, int64_t turn);

  /// The next turn: of the units not in hand, not done, not parked and at most `turn`
  /// iterations ahead of the slowest unfinished one, the one with the fewest iterations (the
  /// lowest index among equals). When every unfinished unit is parked, all continue (and
  /// after stop(), parks no longer hold: no unit goes past the furthest one then). Waits
  /// while there is none but a unit is in another worker's hand. After stop(), waits for the
  /// turns in hand before it to end, then gives the units behind the furthest one catch-up
  /// turns to its iteration. Unit -1 when no work is left for any worker: every unit done,
  /// failed, or stopped and level.
  Turn take();
  /// Unit `unit`'s turn is over after `ran` iterations (fewer than given when its work ended,
  /// it reached a barrier, or a stop was requested); `done`: it needs no more; `park`: it
  /// waits at a barrier until every unfinished unit has parked.
  void release(int64_t unit, int64_t ran, bool done, bool park = false);
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
  std::vector<bool> in_hand_, catching_up_, done_, parked_;
  bool stopping_ = false, failed_ = false;
};

}  // namespace vecsac
