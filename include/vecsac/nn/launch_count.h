/// @brief A process-wide count of the device launches that vecsac's own wrappers make.
#pragma once

#include <atomic>
#include <cstdint>

namespace vecsac {

/// Every GEMM and fused-kernel wrapper of the update engine adds one per call, on every
/// device: on a GPU each call is one launch, so counting them on the CPU tells how many
/// launches an update would make there (bench/sac_bench.cpp's ops_per_update adds the
/// ATen ops a RecordFunction observer sees).
inline std::atomic<int64_t>& launch_count() {
  static std::atomic<int64_t> count{0};
  return count;
}

inline void count_launch() { launch_count().fetch_add(1, std::memory_order_relaxed); }

}  // namespace vecsac
