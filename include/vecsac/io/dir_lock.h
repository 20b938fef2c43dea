/// @brief An exclusive, crash-proof lock on a run or sweep directory.
#pragma once

#include <filesystem>
#include <string>

namespace vecsac {

/// Holds an exclusive flock(2) on DIR/.lock for its lifetime, so that two writers never
/// share a run directory. The kernel drops the lock when its process dies in any way, so a
/// SIGKILL never leaves a stale lock behind. The file holds the holder's PID and command,
/// for the second writer's error message. Readers (eval, report) do not take it.
class DirLock {
 public:
  /// Creates `dir` if needed and locks it, or throws std::runtime_error naming the
  /// directory and the PID that holds it. `command` is what this process does there
  /// ("vecsac train"), written for the next one's message.
  DirLock(const std::filesystem::path& dir, const std::string& command);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace vecsac
