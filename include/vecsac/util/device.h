/// @brief Parsing a user's device string (auto | cpu | cuda | cuda:N) with a clear error.
#pragma once

#include <c10/core/Device.h>

#include <string>

namespace vecsac {

/// "auto" is the first CUDA GPU when one is visible, else the CPU. Throws
/// std::invalid_argument naming the value and what is allowed, including when a
/// CUDA device is asked for and none (or too few) is visible.
c10::Device parse_device(const std::string& spec);

/// Waits until all work queued on `device` has run (a no-op on the CPU): wall
/// times read after it cover the work itself, not just its launch.
void synchronize(c10::Device device);

/// Bytes a new allocation can take on `device` now: free memory on a GPU; on the CPU
/// MemAvailable, or less under a container's memory limit (cgroup v2).
double available_memory(c10::Device device);

}  // namespace vecsac
