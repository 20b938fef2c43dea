/// @brief What a run will allocate, by the config key that sets each part, checked before
/// training against the memory the device has.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vecsac/config/config.h"
#include "vecsac/util/format_bytes.h"

namespace vecsac {

/// One large allocation of a run: the key that sizes it, what it is, its estimated bytes.
struct MemoryItem {
  std::string key;   ///< e.g. "sac.buffer_size=1000000"
  std::string what;  ///< e.g. "replay buffer"
  double bytes = 0;  ///< a double: absurd configs must not overflow the estimate
};

/// The run's large allocations (replay, envs, networks with their optimizer state and
/// copies, update and acting activations, evaluation and selection envs), largest first.
/// An estimate from the shapes, within a small factor of what LibTorch allocates; the
/// allocator's caching and LibTorch's own workspace are not in it.
std::vector<MemoryItem> estimate_memory(const Config& config, int64_t obs_dim, int64_t act_dim,
                                        int64_t state_dim, int64_t eval_episodes);

double total_bytes(const std::vector<MemoryItem>& items);

/// Throws std::runtime_error when the estimate exceeds `available` bytes on `device_name`,
/// naming the total, what is available and the largest items with their keys.
void check_memory_fits(const std::vector<MemoryItem>& items, double available,
                       const std::string& device_name);

}  // namespace vecsac
