/// @brief CUDA drivers of the engine's ReLU and ReLU backward: one block per row.
#include "vecsac/detail/cuda_check.h"
#include "vecsac/nn/activation_launch.h"

namespace vecsac {
namespace {

__global__ void relu_kernel(const Rows h) { relu_thread(h, blockIdx.x, blockDim.x, threadIdx.x); }

__global__ void relu_backward_kernel(const Rows grad, const Rows act) {
  relu_backward_thread(grad, act, blockIdx.x, blockDim.x, threadIdx.x);
}

}  // namespace

void launch_relu(const Rows& h, CudaStream stream) {
  const int64_t blocks = h.members * h.rows;
  if (blocks == 0 || h.cols == 0) return;
  relu_kernel<<<detail::grid_blocks(blocks), kRowThreads, 0, stream>>>(h);
  VECSAC_CUDA_CHECK(cudaGetLastError());
}

void launch_relu_backward(const Rows& grad, const Rows& act, CudaStream stream) {
  const int64_t blocks = grad.members * grad.rows;
  if (blocks == 0 || grad.cols == 0) return;
  relu_backward_kernel<<<detail::grid_blocks(blocks), kRowThreads, 0, stream>>>(grad, act);
  VECSAC_CUDA_CHECK(cudaGetLastError());
}

}  // namespace vecsac
