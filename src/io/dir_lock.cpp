/// @brief DirLock: flock on DIR/.lock.
#include "vecsac/io/dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace vecsac {

DirLock::DirLock(const std::filesystem::path& dir, const std::string& command) {
  std::filesystem::create_directories(dir);
  const std::filesystem::path file = dir / ".lock";
  // O_CLOEXEC: a program this process runs must not inherit (and outlive it with) the lock.
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw std::runtime_error("cannot lock '" + dir.string() + "': open of '" + file.string() +
                             "' failed: " + std::strerror(errno));
  }
  int rc = 0;
  do {
    rc = ::flock(fd_, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    char holder[256] = {0};
    const ssize_t got = ::pread(fd_, holder, sizeof holder - 1, 0);
    ::close(fd_);
    fd_ = -1;
    if (err != EWOULDBLOCK) {
      throw std::runtime_error("cannot lock '" + dir.string() + "': " + std::strerror(err));
    }
    std::string who = got > 0 ? std::string(holder, static_cast<size_t>(got)) : "";
    while (!who.empty() && (who.back() == '\n' || who.back() == '\0')) who.pop_back();
    throw std::runtime_error("'" + dir.string() + "' is in use by another process (" +
                             (who.empty() ? "PID unknown" : "PID " + who) +
                             "); wait for it to finish, or use another directory");
  }
  // The holder's identity, for the message above; the lock, not this text, is what counts.
  const std::string me = std::to_string(::getpid()) + ", " + command + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] const ssize_t w = ::pwrite(fd_, me.data(), me.size(), 0);
  }
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace vecsac
