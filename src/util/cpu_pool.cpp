/// @brief The CPU worker pool behind parallel_for.
#include "vecsac/util/cpu_pool.h"

#include <ATen/Parallel.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <xmmintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "vecsac/util/cpu_budget.h"

namespace vecsac {
namespace {

void futex_wait(std::atomic<uint32_t>& word, uint32_t expected) {
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr,
          nullptr, 0);
}
void futex_wake_all(std::atomic<uint32_t>& word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
          nullptr, 0);
}

// How long a thread spins before it sleeps. A worker's spin covers the gaps between the ops of
// an update (the serial loss kernels among them take tens of microseconds); a worker woken
// from a futex arrives late (tens of microseconds on a VM) and finds the caller has taken its
// share. The caller spins for claimed tasks as long: they take microseconds, unless their
// thread lost its core.
constexpr auto kSpin = std::chrono::microseconds(300);
// A spin that sees the clock jump by this much between two looks was off the CPU: another
// process wants this core, so the thread sleeps instead of spinning it away.
constexpr auto kPreempted = std::chrono::microseconds(100);

// Spins on `ready()` for up to kSpin, checking the clock every 64 pauses; false on timeout or
// as soon as the thread is seen to have been preempted.
template <class Ready>
bool spin_until(const Ready& ready) {
  auto last = std::chrono::steady_clock::now();
  const auto deadline = last + kSpin;
  while (true) {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
      _mm_pause();
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline || now - last > kPreempted) return ready();
    last = now;
  }
}

// True on the pool's workers, and on a caller while its region runs: a parallel_for from
// there runs inline.
thread_local bool t_in_region = false;

class Pool {
 public:
  explicit Pool(int workers) {
    // Each worker on a CPU of its own, from the end of the affinity mask: the scheduler then
    // keeps the caller off the workers' CPUs (an idle CPU pulls it), where a woken worker
    // placed beside its waker would take turns with it on one core.
    cpu_set_t mask;
    CPU_ZERO(&mask);
    std::vector<int> cpus;
    if (sched_getaffinity(0, sizeof mask, &mask) == 0) {
      for (int c = CPU_SETSIZE - 1; c >= 0; --c) {
        if (CPU_ISSET(c, &mask)) cpus.push_back(c);
      }
    }
    const bool pin = static_cast<int>(cpus.size()) > workers;
    for (int w = 0; w < workers; ++w) {
      threads_.emplace_back([this, cpu = pin ? cpus[w] : -1] {
        if (cpu >= 0) {
          cpu_set_t one;
          CPU_ZERO(&one);
          CPU_SET(cpu, &one);
          sched_setaffinity(0, sizeof one, &one);
        }
        work();
      });
    }
  }
  ~Pool() {
    if (std::getenv("VECSAC_POOL_STATS") != nullptr) {
      std::fprintf(stderr, "pool: %lld regions on the workers, %lld inline in %lld pauses\n",
                   static_cast<long long>(stats_parallel_), static_cast<long long>(stats_inline_),
                   static_cast<long long>(stats_pauses_));
    }
    stop_.store(true);
    epoch_.fetch_add(1);
    futex_wake_all(epoch_);
    for (std::thread& t : threads_) t.join();
  }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  bool paused() {
    const std::lock_guard lock(region_);
    return serial_left_ > 0;
  }

  // Returns false, running nothing, when another thread's region holds the pool.
  bool try_run(int64_t tasks, void (*task)(void*, int64_t), void* context) {
    const std::unique_lock lock(region_, std::try_to_lock);
    if (!lock.owns_lock()) return false;
    if (serial_left_ > 0) {
      --serial_left_;
      ++stats_inline_;
      return false;
    }
    ++stats_parallel_;
    const auto start = std::chrono::steady_clock::now();
    task_ = task;
    context_ = context;
    csr_ = _mm_getcsr();  // the caller's rounding and flush-to-zero: results equal serial ones
    failure_ = nullptr;
    done_.store(0, std::memory_order_relaxed);
    // Publishing the claim word last: a worker that claims a task sees everything above.
    claim_.store(static_cast<uint64_t>(++generation_) << 32 | static_cast<uint64_t>(tasks) << 16,
                 std::memory_order_release);
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) futex_wake_all(epoch_);
    t_in_region = true;
    claim_and_run();
    const auto mine_done = std::chrono::steady_clock::now();
    const auto all_done = [&] {
      return done_.load(std::memory_order_acquire) == static_cast<uint32_t>(tasks);
    };
    if (!spin_until(all_done)) {
      caller_waiting_.store(true, std::memory_order_seq_cst);
      for (uint32_t d; (d = done_.load(std::memory_order_seq_cst)) != tasks;) futex_wait(done_, d);
      caller_waiting_.store(false, std::memory_order_relaxed);
    }
    t_in_region = false;
    watch_contention(start, mine_done, std::chrono::steady_clock::now());
    if (failure_) std::rethrow_exception(failure_);
    return true;
  }

 private:
  // The claim word: the region's generation (high 32 bits), its task count (16 bits) and the
  // next unclaimed task (low 16 bits). A task is claimed by one compare-and-swap, which fails
  // for a worker still holding a word of an earlier region.
  static int64_t next_of(uint64_t w) { return static_cast<int64_t>(w & 0xffff); }
  static int64_t tasks_of(uint64_t w) { return static_cast<int64_t>(w >> 16 & 0xffff); }

  void claim_and_run() {
    uint64_t w = claim_.load(std::memory_order_acquire);
    while (next_of(w) < tasks_of(w)) {
      if (!claim_.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel)) continue;
      // A claimed task keeps its region open, so task_ and context_ are still its own.
      if (t_csr_ != csr_) _mm_setcsr(t_csr_ = csr_);
      try {
        task_(context_, next_of(w));
      } catch (...) {
        const std::lock_guard lock(failure_mutex_);
        if (!failure_) failure_ = std::current_exception();
      }
      const uint32_t finished = done_.fetch_add(1, std::memory_order_seq_cst) + 1;
      if (finished == static_cast<uint32_t>(tasks_of(w)) &&
          caller_waiting_.load(std::memory_order_seq_cst)) {
        futex_wake_all(done_);
      }
      w = claim_.load(std::memory_order_acquire);
    }
  }

  void work() {
    t_in_region = true;
    // The epoch the pool was built with: a worker that starts after a region (or the
    // destructor) has moved it still sees that move.
    uint32_t seen = 0;
    while (true) {
      const auto moved = [&] { return epoch_.load(std::memory_order_acquire) != seen; };
      if (!spin_until(moved)) {
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        while (epoch_.load(std::memory_order_seq_cst) == seen) futex_wait(epoch_, seen);
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
      }
      seen = epoch_.load(std::memory_order_acquire);
      if (stop_.load()) return;
      claim_and_run();
    }
  }

  // Contention back-off. Tasks are microseconds, so on an idle machine the caller waits for
  // the others' last tasks a small part of a region. When a worker loses its core in the
  // middle of a task (another process wants that core), the caller waits for a whole scheduler
  // slice: milliseconds. When over a window of regions the caller spent most of the time
  // waiting, the regions run inline for a while (the workers sleep and leave the core to
  // whoever has work), and then the workers are tried again, the pause doubling while the
  // contention lasts. Timing decides only who runs a task, never what it computes.
  static constexpr int64_t kWindow = 32;           // regions per verdict
  static constexpr int64_t kFirstPause = 1024;     // regions inline: ~50 updates of the main job
  static constexpr int64_t kLongestPause = 65536;  // about a second of them
  static constexpr std::chrono::microseconds kLostCore{1000};
  void watch_contention(std::chrono::steady_clock::time_point start,
                        std::chrono::steady_clock::time_point mine_done,
                        std::chrono::steady_clock::time_point end) {
    window_total_ += end - start;
    window_waited_ += end - mine_done;
    if (++window_regions_ < kWindow) return;
    // Most of the window, and milliseconds in all: waits of a few microseconds in tiny
    // regions are a handoff's latency, not a lost core.
    if (window_waited_ * 2 > window_total_ && window_waited_ > kLostCore) {
      ++stats_pauses_;
      serial_left_ = pause_;
      pause_ = std::min(2 * pause_, kLongestPause);
    } else {
      pause_ = kFirstPause;
    }
    window_regions_ = 0;
    window_total_ = window_waited_ = {};
  }
  int64_t serial_left_ = 0, pause_ = kFirstPause, window_regions_ = 0;
  int64_t stats_parallel_ = 0, stats_inline_ = 0, stats_pauses_ = 0;
  std::chrono::steady_clock::duration window_total_{}, window_waited_{};

  static thread_local uint32_t t_csr_;

  std::mutex region_;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> claim_{0};
  std::atomic<uint32_t> epoch_{0}, done_{0}, sleepers_{0};
  std::atomic<bool> caller_waiting_{false}, stop_{false};
  uint32_t generation_ = 0;
  void (*task_)(void*, int64_t) = nullptr;
  void* context_ = nullptr;
  uint32_t csr_ = 0;
  std::mutex failure_mutex_;
  std::exception_ptr failure_;
};
thread_local uint32_t Pool::t_csr_ = _mm_getcsr();

std::mutex g_pool_mutex;        // guards g_pool's creation and replacement, and g_origin
std::atomic<int> g_threads{0};  // 0: not yet chosen
std::string g_origin;
std::unique_ptr<Pool> g_pool;

// The default count; called with g_pool_mutex held.
int initial_threads() {
  if (const char* env = std::getenv("OMP_NUM_THREADS"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (*end == '\0' && n >= 1 && n <= 1024) {
      g_origin = "OMP_NUM_THREADS";
      return static_cast<int>(n);
    }
  }
  CpuBudget budget = cpu_budget();
  g_origin = std::move(budget.why);
  return budget.threads;
}

}  // namespace

int cpu_threads() {
  const int threads = g_threads.load(std::memory_order_relaxed);
  if (threads > 0) return threads;
  const std::lock_guard lock(g_pool_mutex);
  if (g_threads.load() == 0) g_threads.store(initial_threads());
  return g_threads.load();
}

std::string cpu_threads_origin() {
  cpu_threads();
  const std::lock_guard lock(g_pool_mutex);
  return g_origin;
}

void set_cpu_threads(int threads, const std::string& origin) {
  if (threads < 1) {
    throw std::invalid_argument("set_cpu_threads: needs at least 1 thread, got " +
                                std::to_string(threads));
  }
  {
    const std::lock_guard lock(g_pool_mutex);
    if (threads != g_threads.load()) g_pool.reset();
    g_threads.store(threads);
    g_origin = origin;
  }
  at::set_num_threads(threads);
}

namespace detail {

void run_tasks(int64_t tasks, void (*task)(void*, int64_t), void* context) {
  Pool* pool = nullptr;
  if (!t_in_region && tasks <= 0xffff && cpu_threads() > 1) {
    const std::lock_guard lock(g_pool_mutex);
    if (!g_pool) g_pool = std::make_unique<Pool>(g_threads.load() - 1);
    pool = g_pool.get();
  }
  if (pool != nullptr && pool->try_run(tasks, task, context)) return;
  for (int64_t t = 0; t < tasks; ++t) task(context, t);
}

bool pool_paused() {
  const std::lock_guard lock(g_pool_mutex);
  return g_pool != nullptr && g_pool->paused();
}

}  // namespace detail
}  // namespace vecsac
