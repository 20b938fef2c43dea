/// @brief One fused launch of a torch-free per-element function: a CPU loop over the threads,
/// or its CUDA kernel on the current stream; counted as one launch either way.
#pragma once

#include <c10/core/Device.h>
#include <c10/util/Exception.h>

#include <cstdint>

#include "vecsac/detail/stream.h"
#include "vecsac/nn/launch_count.h"
#include "vecsac/util/cpu_pool.h"

#ifdef VECSAC_WITH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace vecsac {

/// `element(i)` for i in [0, n) on the CPU (tasks of `grain` elements), or `launch(stream)`
/// on `device`'s current stream. `what` names the caller in the error of a build without CUDA.
template <class Element, class Launch>
void run_elements(c10::Device device, int64_t n, int64_t grain, const Element& element,
                  const Launch& launch, const char* what) {
  count_launch();
  if (device.is_cpu()) {
    parallel_for(0, n, grain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) element(i);
    });
    return;
  }
#ifdef VECSAC_WITH_CUDA
  (void)what;
  const c10::cuda::CUDAGuard guard(device);
  launch(c10::cuda::getCurrentCUDAStream(device.index()).stream());
#else
  (void)launch;
  TORCH_CHECK(false, what, ": device ", device,
              " needs CUDA, but this vecsac was built with VECSAC_CUDA=OFF");
#endif
}

}  // namespace vecsac
