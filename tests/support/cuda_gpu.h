/// @brief Whether CUDA tests can run here: a CUDA build of vecsac and a visible GPU.
#pragma once

#include <ATen/Context.h>

namespace vecsac::testing {

/// False in a VECSAC_CUDA=OFF build even where a GPU is visible: its kernels are absent.
inline bool cuda_gpu_available() {
#ifdef VECSAC_WITH_CUDA
  return at::hasCUDA() && at::getNumGPUs() > 0;
#else
  return false;
#endif
}

}  // namespace vecsac::testing

/// Skips the current test where cuda_gpu_available() is false.
#define VECSAC_REQUIRE_CUDA_GPU()                                                         \
  if (!::vecsac::testing::cuda_gpu_available())                                           \
  GTEST_SKIP() << "no CUDA GPU visible (or VECSAC_CUDA=OFF): the CUDA path is compiled, " \
                  "not run"
