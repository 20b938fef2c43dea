/// @brief DirLock: one holder at a time, the holder named, released by any death.
#include "vecsac/io/dir_lock.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "support/temp_dir_test.h"

namespace vecsac {
namespace {

using ::testing::HasSubstr;
using DirLockTest = testing::TempDirTest;

TEST_F(DirLockTest, ASecondHolderIsRefusedNamingTheFirstsPidUntilItLetsGo) {
  {
    const DirLock first(dir_ / "run", "vecsac train");
    try {
      const DirLock second(dir_ / "run", "vecsac train");
      FAIL() << "two holders at once";
    } catch (const std::runtime_error& e) {
      EXPECT_THAT(e.what(), HasSubstr("is in use by another process (PID " +
                                      std::to_string(::getpid()) + ", vecsac train)"));
      EXPECT_THAT(e.what(), HasSubstr((dir_ / "run").string()));
    }
  }
  EXPECT_NO_THROW(DirLock(dir_ / "run", "vecsac train")) << "released with its holder";
}

// The kernel drops a flock when its process dies, however it dies: no stale lock.
TEST_F(DirLockTest, AHolderKilledWithSigkillLeavesNoStaleLock) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // only async-signal-safe work and _exit in the forked copy
    try {
      const DirLock held(dir_ / "run", "child");
      [[maybe_unused]] const ssize_t w = ::write(ready[1], "x", 1);
      ::pause();
    } catch (...) {
    }
    ::_exit(1);
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1) << "the child never took the lock";
  try {
    const DirLock second(dir_ / "run", "parent");
    FAIL() << "the child holds the lock";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("PID " + std::to_string(child) + ", child"));
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_NO_THROW(DirLock(dir_ / "run", "parent"));
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST_F(DirLockTest, AnUnwritableDirectoryIsAClearError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes anywhere";
  std::filesystem::create_directories(dir_ / "ro");
  std::filesystem::permissions(
      dir_ / "ro", std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  EXPECT_THAT([&] { DirLock(dir_ / "ro", "x"); },
              ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("cannot lock")));
}

}  // namespace
}  // namespace vecsac
