/// @brief 1-D launch geometry, constexpr so CPU tests cover what CUDA launches use.
#pragma once

#include <cstdint>

#include "vecsac/detail/hd.h"

namespace vecsac {

/// Threads per block for the element-wise env kernels: a multiple of the warp
/// size that keeps several blocks resident per SM on every architecture >= sm_80.
inline constexpr int kThreadsPerBlock = 256;

/// Number of blocks so that blocks * threads >= n; 0 when n <= 0 (nothing to launch).
VECSAC_HD constexpr int64_t blocks_for(int64_t n, int threads) {
  return n <= 0 ? 0 : (n + threads - 1) / threads;
}

/// Global element index of a thread in a 1-D launch, computed in 64 bits so that
/// block * threads cannot overflow int for large grids.
VECSAC_HD constexpr int64_t linear_index(int64_t block, int64_t threads, int64_t thread) {
  return block * threads + thread;
}

}  // namespace vecsac
