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

}  // namespace vecsac::detail

// tools/check_kernel_launches.sh requires this right after every <<<...>>> launch.
#define VECSAC_CUDA_CHECK(expr)                                                   \
  do {                                                                            \
    const cudaError_t vecsac_err_ = (expr);                                       \
    if (vecsac_err_ != cudaSuccess) {                                             \
      ::vecsac::detail::throw_cuda_error(vecsac_err_, #expr, __FILE__, __LINE__); \
    }                                                                             \
  } while (0)
