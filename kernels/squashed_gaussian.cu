/// @brief CUDA drivers of the fused squashed-Gaussian sample and its backward: one thread per row.
#include "vecsac/detail/cuda_check.h"
#include "vecsac/sac/squashed_gaussian_launch.h"

namespace vecsac {
namespace {

__global__ void forward_kernel(const SquashedGaussianRows r, float* action, float* log_prob) {
  squashed_gaussian_thread(r, action, log_prob, blockIdx.x, blockDim.x, threadIdx.x);
}

__global__ void backward_kernel(const SquashedGaussianRows r, const float* grad_action,
                                const float* grad_log_prob, float* grad_mean, float* grad_log_std) {
  squashed_gaussian_backward_thread(r, grad_action, grad_log_prob, grad_mean, grad_log_std,
                                    blockIdx.x, blockDim.x, threadIdx.x);
}

}  // namespace

void launch_squashed_gaussian(const SquashedGaussianRows& r, float* action, float* log_prob,
                              CudaStream stream) {
  const int64_t blocks = blocks_for(r.rows, kThreadsPerBlock);
  if (blocks == 0) return;
  forward_kernel<<<static_cast<unsigned>(blocks), kThreadsPerBlock, 0, stream>>>(r, action,
                                                                                 log_prob);
  VECSAC_CUDA_CHECK(cudaGetLastError());
}

void launch_squashed_gaussian_backward(const SquashedGaussianRows& r, const float* grad_action,
                                       const float* grad_log_prob, float* grad_mean,
                                       float* grad_log_std, CudaStream stream) {
  const int64_t blocks = blocks_for(r.rows, kThreadsPerBlock);
  if (blocks == 0) return;
  backward_kernel<<<static_cast<unsigned>(blocks), kThreadsPerBlock, 0, stream>>>(
      r, grad_action, grad_log_prob, grad_mean, grad_log_std);
  VECSAC_CUDA_CHECK(cudaGetLastError());
}

}  // namespace vecsac
