#include "vecsac/util/cpu_pool.h"

#include <gtest/gtest.h>
#include <xmmintrin.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <thread>
#include <vector>

#include "vecsac/util/cpu_budget.h"

namespace vecsac {
namespace {

// Sets the pool's thread count for one test and restores the previous one.
class ThreadsScope {
 public:
  explicit ThreadsScope(int threads) : before_(cpu_threads()), origin_(cpu_threads_origin()) {
    set_cpu_threads(threads, "the test");
  }
  ~ThreadsScope() { set_cpu_threads(before_, origin_); }

 private:
  int before_;
  std::string origin_;
};

TEST(CpuPoolTest, EveryElementRunsExactlyOnceForAnyThreadCountAndGrain) {
  for (const int threads : {1, 2, 3, 5}) {
    const ThreadsScope scope(threads);
    for (const int64_t n : {0, 1, 7, 100, 1000, 4097}) {
      for (const int64_t grain : {1, 16, 256, 5000}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n) + 3);
        parallel_for(3, 3 + n, grain, [&](int64_t b, int64_t e) {
          ASSERT_LE(3, b);
          ASSERT_LE(b, e);
          ASSERT_LE(e, 3 + n);
          for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
        });
        for (int64_t i = 0; i < 3 + n; ++i) {
          ASSERT_EQ(hits[i].load(), i < 3 ? 0 : 1)
              << "element " << i << ", n " << n << ", grain " << grain << ", threads " << threads;
        }
      }
    }
  }
}

TEST(CpuPoolTest, TasksAreNoSmallerThanTheGrainAndSpreadOverThreads) {
  const ThreadsScope scope(2);
  std::atomic<int> tasks{0};
  std::atomic<int64_t> smallest{1 << 30};
  parallel_for(0, 1000, 100, [&](int64_t b, int64_t e) {
    tasks.fetch_add(1);
    int64_t s = smallest.load();
    while (e - b < s && !smallest.compare_exchange_weak(s, e - b)) {
    }
  });
  EXPECT_GT(tasks.load(), 2);  // several per thread, so a slow thread leaves its share
  EXPECT_LE(tasks.load(), 10);
  EXPECT_GE(smallest.load(), 100);
  int one = 0;
  parallel_for(0, 100, 100, [&](int64_t, int64_t) { ++one; });  // one task: inline
  EXPECT_EQ(one, 1);
}

TEST(CpuPoolTest, WorkersRunTasksWhenTheCallerIsBusy) {
  const ThreadsScope scope(2);
  // Task 0 waits until another task ran: only a worker can run it while the caller is held.
  std::atomic<int> others{0};
  std::atomic<bool> caller_saw_help{false};
  parallel_for(0, 8, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      if (i == 0) {
        for (int spin = 0; spin < 2'000'000'000 && others.load() == 0; ++spin)
          std::this_thread::yield();
        caller_saw_help = others.load() > 0;
      } else {
        others.fetch_add(1);
      }
    }
  });
  EXPECT_TRUE(caller_saw_help.load());
  EXPECT_EQ(others.load(), 7);
}

TEST(CpuPoolTest, NestedRegionsRunInlineAndComplete) {
  const ThreadsScope scope(2);
  std::atomic<int> sum{0};
  parallel_for(0, 4, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      parallel_for(0, 100, 1,
                   [&](int64_t bb, int64_t ee) { sum.fetch_add(static_cast<int>(ee - bb)); });
    }
  });
  EXPECT_EQ(sum.load(), 400);
}

TEST(CpuPoolTest, TheFirstExceptionOfATaskReachesTheCallerAndThePoolStaysUsable) {
  const ThreadsScope scope(2);
  std::atomic<int> ran{0};
  EXPECT_THROW(parallel_for(0, 8, 1,
                            [&](int64_t b, int64_t) {
                              ran.fetch_add(1);
                              if (b == 5) throw std::runtime_error("task 5");
                            }),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 8);  // the other tasks still ran
  std::atomic<int> after{0};
  parallel_for(0, 8, 1, [&](int64_t b, int64_t e) { after.fetch_add(static_cast<int>(e - b)); });
  EXPECT_EQ(after.load(), 8);
}

TEST(CpuPoolTest, TwoCallingThreadsAtOnceBothComplete) {
  const ThreadsScope scope(2);
  std::vector<int64_t> a(20000, 0), b(20000, 0);
  const auto fill = [](std::vector<int64_t>& v) {
    for (int round = 0; round < 200; ++round) {
      parallel_for(0, static_cast<int64_t>(v.size()), 64, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) v[i] += i;
      });
    }
  };
  std::thread other([&] { fill(b); });
  fill(a);
  other.join();
  for (int64_t i = 0; i < 20000; ++i) {
    ASSERT_EQ(a[i], 200 * i);
    ASSERT_EQ(b[i], 200 * i);
  }
}

// Workers take the caller's floating-point mode, so a region's results equal a serial loop's
// whichever thread computes them (flush-to-zero changes results below 1.2e-38).
TEST(CpuPoolTest, WorkersUseTheCallersFlushToZeroMode) {
  const ThreadsScope scope(2);
  const unsigned before = _mm_getcsr();
  for (const bool ftz : {true, false}) {
    _mm_setcsr(ftz ? (before | 0x8040) : (before & ~0x8040u));  // FTZ and DAZ
    std::vector<float> out(4096);
    volatile float tiny = 1e-30f;
    parallel_for(0, 4096, 8, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) out[i] = tiny * 1e-10f;
    });
    for (float v : out) ASSERT_EQ(v == 0.0f, ftz);
  }
  _mm_setcsr(before);
}

// Runs `tasks` tasks of about `us` microseconds each; returns how many ran off this thread.
int64_t tasks_elsewhere(int64_t tasks, int us, int sleep_elsewhere_us = 0) {
  const auto me = std::this_thread::get_id();
  std::atomic<int64_t> elsewhere{0};
  parallel_for(0, tasks, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const bool other = std::this_thread::get_id() != me;
      if (other) elsewhere.fetch_add(1);
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
      while (std::chrono::steady_clock::now() < until) {
      }
      if (other && sleep_elsewhere_us > 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(sleep_elsewhere_us));
      }
    }
  });
  return elsewhere.load();
}

// A worker that loses its core mid-task makes the caller wait milliseconds (simulated here by
// a worker's task that sleeps): after a window of such regions the pool runs them inline for a
// while, then tries its workers again. (A pinned worker may first wait for the scheduler to
// move this thread off its CPU, and other tests may load the machine: the loops below wait for
// each state with a bound rather than count regions.)
TEST(CpuPoolTest, RegionsRunInlineWhileWorkersKeepTheCallerWaitingAndRetryLater) {
  const ThreadsScope scope(2);
  int64_t helped = 0;
  for (int r = 0; r < 640 && !detail::pool_paused(); ++r) {
    helped += tasks_elsewhere(8, 10, /*sleep_elsewhere_us=*/10000);
  }
  ASSERT_TRUE(detail::pool_paused())
      << "no pause after 20 windows; the worker took " << helped << " slow tasks";
  int64_t during = 0;
  for (int r = 0; r < 20; ++r) during += tasks_elsewhere(8, 20);
  EXPECT_EQ(during, 0) << "regions ran inline during the pause";
  for (int r = 0; r < 200000 && detail::pool_paused(); ++r) tasks_elsewhere(2, 0);
  ASSERT_FALSE(detail::pool_paused()) << "the pause never ended";
  int64_t again = 0;
  for (int r = 0; r < 20000 && again == 0; ++r) again = tasks_elsewhere(8, 10);
  EXPECT_GT(again, 0) << "the workers were tried again";
}

TEST(CpuPoolTest, SetThreadsRejectsZeroAndNamesTheOrigin) {
  EXPECT_THROW(set_cpu_threads(0), std::invalid_argument);
  const ThreadsScope scope(3);
  EXPECT_EQ(cpu_threads(), 3);
  EXPECT_EQ(cpu_threads_origin(), "the test");
}

TEST(CpuBudgetTest, ReadsCgroupQuotas) {
  EXPECT_EQ(cpus_of_cgroup_quota("max 100000\n"), std::nullopt);
  EXPECT_EQ(cpus_of_cgroup_quota("200000 100000\n"), 2);
  EXPECT_EQ(cpus_of_cgroup_quota("150000 100000"), 2);  // part of a second CPU: a thread for it
  EXPECT_EQ(cpus_of_cgroup_quota("50000 100000"), 1);
  EXPECT_EQ(cpus_of_cgroup_quota("-1 100000"), std::nullopt);  // cgroup v1's "no quota"
  EXPECT_EQ(cpus_of_cgroup_quota(""), std::nullopt);
  EXPECT_EQ(cpus_of_cgroup_quota("abc 100000"), std::nullopt);
  EXPECT_EQ(cpus_of_cgroup_quota("100000 0"), std::nullopt);
}

TEST(CpuBudgetTest, TheBudgetIsWithinTheAffinityMaskAndSaysWhy) {
  const CpuBudget b = cpu_budget();
  EXPECT_GE(b.threads, 1);
  EXPECT_LE(b.threads, static_cast<int>(std::thread::hardware_concurrency()));
  EXPECT_NE(b.why.find("affinity mask"), std::string::npos) << b.why;
}

}  // namespace
}  // namespace vecsac
