#include "vecsac/util/stop_signal.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace vecsac {
namespace {

struct sigaction disposition(int sig) {
  struct sigaction sa {};
  ::sigaction(sig, nullptr, &sa);
  return sa;
}

// `nohup vecsac train ... &` ignores SIGHUP before vecsac starts: closing the terminal must
// not stop the run. A handled signal is recorded, and the old disposition comes back after.
TEST(StopSignals, AnIgnoredSignalStaysIgnoredAndAHandledOneIsRecorded) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction before_hup {
  }, before_term{};
  ::sigaction(SIGHUP, &ignore, &before_hup);
  ::sigaction(SIGTERM, nullptr, &before_term);
  {
    const StopSignals handlers;
    EXPECT_EQ(disposition(SIGHUP).sa_handler, SIG_IGN);
    ::raise(SIGHUP);
    EXPECT_EQ(pending_stop_signal(), 0);
    EXPECT_NE(disposition(SIGTERM).sa_handler, before_term.sa_handler);
    ::raise(SIGTERM);
    EXPECT_EQ(pending_stop_signal(), SIGTERM);
    request_stop(0);
  }
  EXPECT_EQ(disposition(SIGHUP).sa_handler, SIG_IGN);
  EXPECT_EQ(disposition(SIGTERM).sa_handler, before_term.sa_handler);
  ::sigaction(SIGHUP, &before_hup, nullptr);
}

}  // namespace
}  // namespace vecsac
