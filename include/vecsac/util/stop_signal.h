/// @brief Graceful stop: the first SIGINT, SIGTERM or SIGHUP asks training to stop at the end
/// of its iteration; the second ends the process at once.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace vecsac {

/// Installs the handlers for its lifetime (the CLI's train and sweep hold one) and restores
/// the previous ones after. A signal the process inherited as ignored (nohup's SIGHUP, a
/// script's background job's SIGINT) is left ignored. The handler only records the signal: train()
/// polls it once per iteration, writes a checkpoint, and throws StopRequested.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
};

/// The signal received and not yet acted on (0: none). Async-signal-safe to set, cheap to poll.
int pending_stop_signal();

/// As if `signal` had arrived (tests, and callers that stop training for their own reasons);
/// 0 clears a pending request.
void request_stop(int signal);

/// Thrown by train() after it saved the state it stopped in.
struct StopRequested : std::runtime_error {
  StopRequested(int signal, int64_t global_step, std::string checkpoint);
  int signal;
  int64_t global_step;
  std::string checkpoint;  ///< the file written at the stop
  std::string resume;      ///< the command that continues, as the CLI fills it in
};

/// "SIGINT", "SIGTERM", ... for messages.
std::string signal_name(int signal);

}  // namespace vecsac
