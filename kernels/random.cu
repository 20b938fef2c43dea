/// @brief CUDA driver of the counter-based fills: one thread per element.
#include "vecsac/detail/cuda_check.h"
#include "vecsac/random/counter_draws.h"

namespace vecsac {
namespace {

__global__ void counter_fill_kernel(const CounterFill f) {
  counter_fill_thread(f, blockIdx.x, blockDim.x, threadIdx.x);
}

}  // namespace

void launch_counter_fill(const CounterFill& f, CudaStream stream) {
  const int64_t n = f.agents * f.per_agent;
  if (n == 0) return;
  counter_fill_kernel<<<detail::grid_blocks(blocks_for(n, kThreadsPerBlock)), kThreadsPerBlock, 0,
                        stream>>>(f);
  VECSAC_CUDA_CHECK(cudaGetLastError());
}

}  // namespace vecsac
