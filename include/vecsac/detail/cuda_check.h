/// @brief VECSAC_CUDA_CHECK: throw with file:line on any CUDA runtime error.
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace vecsac::detail {

[[noreturn]] inline void throw_cuda_error(cudaError_t err, const char* expr, const char* file,
                                          int line) {
  throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": CUDA error in " +
                           expr + ": " + cudaGetErrorString(err));
}

/// A 1-D grid's block count as CUDA takes it, refused past gridDim.x's limit (2^31 - 1)
/// instead of wrapping silently to a small grid.
inline unsigned grid_blocks(long long blocks) {
  if (blocks < 0 || blocks > 2147483647LL) {
    throw std::runtime_error("CUDA grid of " + std::to_string(blocks) +
                             " blocks exceeds gridDim.x's limit of 2^31 - 1");
  }
  return static_cast<unsigned>(blocks);
}

}  // namespace vecsac::detail

// tools/check_kernel_launches.sh requires this right after every <<<...>>> launch.
#define VECSAC_CUDA_CHECK(expr)                                                   \
  do {                                                                            \
    const cudaError_t vecsac_err_ = (expr);                                       \
    if (vecsac_err_ != cudaSuccess) {                                             \
      ::vecsac::detail::throw_cuda_error(vecsac_err_, #expr, __FILE__, __LINE__); \
    }                                                                             \
  } while (0)
