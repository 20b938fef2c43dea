/// @brief vecsac's CPU worker pool: the parallel_for of every CPU loop in the training
/// iteration, built to share the machine.
///
/// Why not at::parallel_for (OpenMP): it splits a range into one fixed chunk per thread and
/// its threads spin between regions. At SAC's shapes an op is a few microseconds, so every op
/// waited for the slowest thread, and on a core shared with another busy process that thread
/// is off the CPU for whole scheduler slices: the main job ran 4.6x slower on 2 threads than
/// on 1 beside one busy process. Here the calling thread takes part, tasks are claimed one at
/// a time from a shared counter, and a region waits only for tasks already claimed: a worker
/// that is not running simply takes none. Workers spin briefly after a region (the next op
/// follows within microseconds) and then sleep on a futex, so an idle pool costs no CPU; a
/// spin that finds itself preempted sleeps at once. Each worker is pinned to a CPU of its own
/// from the end of the affinity mask (when the mask has more CPUs than workers), so the caller
/// is never placed beside a spinning worker. When the caller spends most of a window of
/// regions waiting for a worker that lost its core mid-task, regions run inline for a while
/// (a pause that doubles while that lasts). VECSAC_POOL_STATS=1 prints, when a pool ends, how
/// many regions ran on the workers and how many inline.
///
/// Which thread runs a task never changes what it computes: callers give each task a fixed
/// range, so results do not depend on the thread count or on timing.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

namespace vecsac {

/// The threads parallel_for uses, the calling thread included: set_cpu_threads, else
/// OMP_NUM_THREADS, else the CPUs this process may use (cpu_budget.h).
int cpu_threads();

/// Where cpu_threads() came from, for logs: "run.threads", "OMP_NUM_THREADS", or the
/// affinity mask and cgroup quota (cpu_budget.h).
std::string cpu_threads_origin();

/// Sets the pool's thread count (>= 1) and torch's (ATen ops and MKL) to the same; `origin`
/// is what cpu_threads_origin() then says. Not while a parallel_for runs.
void set_cpu_threads(int threads, const std::string& origin = "set by the program");

namespace detail {
/// Runs task(context, t) for t in [0, tasks) on the pool; returns when all have finished.
void run_tasks(int64_t tasks, void (*task)(void*, int64_t), void* context);
/// True while the pool runs regions inline after waiting on workers that lost their cores.
bool pool_paused();
}  // namespace detail

/// f(b, e) over [begin, end) in tasks of at least `grain` elements (as at::parallel_for's
/// grain), a few per thread so that a thread that falls behind leaves its share to the
/// others. Runs inline when there is one task, one thread, or when called from inside a
/// region (nested regions run serially, as OpenMP's do). An exception in f is rethrown here
/// (the first one; the other tasks still run).
template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) {
  const int64_t n = end - begin;
  if (n <= 0) return;
  constexpr int64_t kTasksPerThread = 4;
  const int64_t by_grain = grain > 0 ? (n + grain - 1) / grain : n;
  const int64_t tasks = std::min<int64_t>(by_grain, kTasksPerThread * cpu_threads());
  if (tasks <= 1) {
    f(begin, end);
    return;
  }
  struct Context {
    const F* f;
    int64_t begin, n, tasks;
  } context{&f, begin, n, tasks};
  detail::run_tasks(
      tasks,
      [](void* c, int64_t t) {
        const auto& x = *static_cast<const Context*>(c);
        (*x.f)(x.begin + t * x.n / x.tasks, x.begin + (t + 1) * x.n / x.tasks);
      },
      &context);
}

}  // namespace vecsac
