/// @brief StopSignals: sigaction handlers that record the first signal and re-raise the second.
#include "vecsac/util/stop_signal.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

namespace vecsac {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
// Set by the handler and by request_stop (from any thread, e.g. a population's workers), read
// by every worker: an atomic, which is also async-signal-safe when lock-free.
std::atomic<int> g_pending{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free flag");
struct sigaction g_previous[3];

void write_stderr(const char* s) {
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, s, std::strlen(s));
}

void on_signal(int sig) {
  if (g_pending != 0) {
    // The second one: the user means it. Die of the signal, as without a handler.
    ::signal(sig, SIG_DFL);
    ::raise(sig);
    return;
  }
  g_pending = sig;
  write_stderr(
      "\nvecsac: stopping after this iteration and writing a checkpoint (signal it again to "
      "stop at once, without one)\n");
}

}  // namespace

StopSignals::StopSignals() {
  g_pending = 0;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // file writes in progress finish rather than fail with EINTR
  for (size_t i = 0; i < 3; ++i) {
    ::sigaction(kSignals[i], nullptr, &g_previous[i]);
    // An ignored signal stays ignored: `nohup vecsac train` must survive the terminal's
    // SIGHUP, and a background job of a script its SIGINT, as any Unix program does.
    if (g_previous[i].sa_handler != SIG_IGN) ::sigaction(kSignals[i], &sa, nullptr);
  }
}

StopSignals::~StopSignals() {
  for (size_t i = 0; i < 3; ++i) ::sigaction(kSignals[i], &g_previous[i], nullptr);
}

int pending_stop_signal() { return g_pending; }

void request_stop(int signal) { g_pending = signal; }

StopRequested::StopRequested(int sig, int64_t step, std::string file)
    : std::runtime_error("stopped by " + signal_name(sig) + " at global_step " +
                         std::to_string(step) + "; the state is in " + file),
      signal(sig),
      global_step(step),
      checkpoint(std::move(file)) {}

std::string signal_name(int signal) {
  switch (signal) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "signal " + std::to_string(signal);
  }
}

}  // namespace vecsac
