#include "vecsac/util/iteration_scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace vecsac {
namespace {

using Turn = IterationScheduler::Turn;

// Takes a turn and runs all of it, or as much as `total` iterations leave; the unit taken.
int64_t run_turn(IterationScheduler& s, int64_t total) {
  const Turn t = s.take();
  if (t.unit >= 0) {
    const int64_t ran = std::min(t.iterations, total - s.iterations()[t.unit]);
    s.release(t.unit, ran, s.iterations()[t.unit] + ran >= total);
  }
  return t.unit;
}

TEST(IterationScheduler, OneWorkerTakesTheUnitFurthestBehindAndEndsWhenAllAreDone) {
  IterationScheduler s(3, 1);
  std::vector<int64_t> order;
  for (int64_t u; (u = run_turn(s, 2)) >= 0;) order.push_back(u);
  EXPECT_EQ(order, (std::vector<int64_t>{0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(s.iterations(), (std::vector<int64_t>{2, 2, 2}));
}

// Turns of 4: a unit whose work ends inside a turn gives back what it ran, and is not
// taken again.
TEST(IterationScheduler, ATurnIsSeveralIterationsOfOneUnit) {
  IterationScheduler s(2, 4);
  EXPECT_EQ(s.take().iterations, 4);
  std::vector<int64_t> order;
  s.release(0, 4, false);
  for (int64_t u; (u = run_turn(s, 6)) >= 0;) order.push_back(u);
  EXPECT_EQ(order, (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(s.iterations(), (std::vector<int64_t>{6, 6}));
}

TEST(IterationScheduler, AStopBringsTheUnitsBehindToTheLeadersIteration) {
  IterationScheduler s(3, 2);
  for (int i = 0; i < 4; ++i) run_turn(s, 100);  // 0, 1, 2, 0: unit 0 leads with 4
  s.stop();
  const Turn t = s.take();
  EXPECT_EQ(t.unit, 1);
  EXPECT_EQ(t.iterations, 2) << "what brings unit 1 level with unit 0";
  s.release(t.unit, 1, false);  // a turn may end early: the unit is given the rest later
  EXPECT_EQ(run_turn(s, 100), 2);
  EXPECT_EQ(run_turn(s, 100), 1);
  EXPECT_EQ(s.take().unit, -1);
  EXPECT_EQ(s.iterations(), (std::vector<int64_t>{4, 4, 4}));
}

// A turn in hand at the stop ends before the others are levelled: its unit may end up
// furthest, and a worker with nothing to take waits for it rather than ending early.
TEST(IterationScheduler, AStopWaitsForTheTurnsInHand) {
  IterationScheduler s(3, 2);
  const Turn held = s.take();
  ASSERT_EQ(held.unit, 0);
  s.stop();
  std::vector<int64_t> taken;
  std::atomic<bool> finished{false};
  std::thread other([&] {
    for (int64_t u; (u = run_turn(s, 100)) >= 0;) taken.push_back(u);
    finished = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(finished) << "a worker ended while unit 0's turn was still in hand";
  EXPECT_TRUE(taken.empty()) << "the leader is unknown until unit 0's turn ends";
  s.release(held.unit, 1, false);
  other.join();
  EXPECT_EQ(taken, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(s.iterations(), (std::vector<int64_t>{1, 1, 1}));
}

// Waits up to 10 s for `done`; a loaded machine may take a while to run another thread.
template <typename F>
bool eventually(F done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Unit 0's holder is slow: unit 1 runs up to one turn ahead of it, then waits for it.
TEST(IterationScheduler, NoUnitStartsATurnMoreThanATurnAheadOfTheSlowest) {
  IterationScheduler s(2, 3);
  const Turn slow = s.take();
  ASSERT_EQ(slow.unit, 0);
  std::atomic<int64_t> ran{0};
  std::thread other([&] {
    while (run_turn(s, 100) == 1) ++ran;
  });
  EXPECT_TRUE(eventually([&] { return ran == 2; })) << "unit 1 runs iterations 0-2 and 3-5";
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(ran, 2) << "then waits for unit 0";
  s.fail();
  other.join();
  s.release(slow.unit, 3, false);
}

// A unit parked at a barrier gets no turn until every unfinished unit has parked; the units
// behind still run. Then all continue.
TEST(IterationScheduler, AParkedUnitWaitsUntilEveryUnitHasParked) {
  IterationScheduler s(3, 4);
  Turn t = s.take();
  ASSERT_EQ(t.unit, 0);
  s.release(0, 2, false, /*park=*/true);
  t = s.take();
  EXPECT_EQ(t.unit, 1);
  s.release(1, 2, false, true);
  t = s.take();
  EXPECT_EQ(t.unit, 2) << "the only unit not parked";
  s.release(2, 1, false);
  t = s.take();
  EXPECT_EQ(t.unit, 2) << "still behind the barrier";
  s.release(2, 1, false, true);
  std::vector<int64_t> after;
  for (int i = 0; i < 3; ++i) after.push_back(run_turn(s, 100));
  EXPECT_EQ(after, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(s.iterations(), (std::vector<int64_t>{6, 6, 6}));
}

// Catch-up turns after a stop: marked, run concurrently, and they pass parks (no unit goes
// beyond the furthest one).
TEST(IterationScheduler, CatchUpTurnsRunSideBySideAndPassParks) {
  IterationScheduler s(3, 4);
  run_turn(s, 100);  // unit 0 leads with 4
  Turn t = s.take();
  s.release(t.unit, 1, false, /*park=*/true);  // unit 1 parked at 1
  s.stop();
  const Turn a = s.take(), b = s.take();  // both handed out at once: no wait between them
  EXPECT_TRUE(a.catch_up && b.catch_up);
  EXPECT_EQ(a.unit, 2) << "furthest behind first";
  EXPECT_EQ(a.iterations, 4);
  EXPECT_EQ(b.unit, 1) << "parked, but a stop passes parks";
  EXPECT_EQ(b.iterations, 3);
  s.release(a.unit, a.iterations, false);
  s.release(b.unit, b.iterations, false);
  EXPECT_EQ(s.take().unit, -1);
  EXPECT_EQ(s.iterations(), (std::vector<int64_t>{4, 4, 4}));
}

TEST(IterationScheduler, AFailureEndsEveryWorkersWork) {
  IterationScheduler s(2, 1);
  run_turn(s, 100);
  s.fail();
  EXPECT_EQ(s.take().unit, -1);
}

TEST(IterationScheduler, OnlyAUnitInHandCanBeReleased) {
  IterationScheduler s(2, 1);
  EXPECT_THROW(s.release(1, 1, false), std::logic_error);
  EXPECT_THROW(s.release(5, 1, false), std::logic_error);
  EXPECT_THROW(IterationScheduler(0, 1), std::invalid_argument);
  EXPECT_THROW(IterationScheduler(2, 0), std::invalid_argument);
}

// Four workers over five units: no unit is ever in two hands, and every unit runs exactly its
// iterations. (How far apart the units drift is timing: a preempted holder falls behind.)
TEST(IterationScheduler, WorkersShareTheUnitsWithoutOverlap) {
  constexpr int64_t kUnits = 5, kIterations = 300;
  IterationScheduler s(kUnits, 4);
  std::vector<std::atomic<int>> holders(kUnits);
  std::vector<int64_t> ran(kUnits, 0);  // each written only by the unit's holder
  std::atomic<bool> overlap{false};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      for (Turn t; (t = s.take()).unit >= 0;) {
        if (holders[t.unit].fetch_add(1) != 0) overlap = true;
        const int64_t n = std::min(t.iterations, kIterations - ran[t.unit]);
        ran[t.unit] += n;
        holders[t.unit].fetch_sub(1);
        s.release(t.unit, n, ran[t.unit] == kIterations);
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_FALSE(overlap);
  EXPECT_EQ(s.iterations(), std::vector<int64_t>(kUnits, kIterations));
  EXPECT_EQ(ran, std::vector<int64_t>(kUnits, kIterations));
}

}  // namespace
}  // namespace vecsac
