/// @brief Turns LibTorch's CUDA sync-debug mode to "error" for a scope (the hot training loop).
#pragma once

namespace vecsac {

/// While alive and enabled, any operation that synchronises the host with a
/// CUDA device throws, proving a loop free of hidden syncs on a GPU run. No
/// effect on the CPU or in a build without CUDA.
class SyncDebugScope {
 public:
  explicit SyncDebugScope(bool enable);
  ~SyncDebugScope();
  SyncDebugScope(const SyncDebugScope&) = delete;
  SyncDebugScope& operator=(const SyncDebugScope&) = delete;

 private:
  bool enabled_;
};

}  // namespace vecsac
