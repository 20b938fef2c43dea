/// @brief CUDA drivers of the fused SAC update's kernels: row kernels with one thread per
/// row, and the two loss kernels as one block per agent (they reduce over its batch).
#include "vecsac/detail/cuda_check.h"
#include "vecsac/sac/fused_update_launch.h"

namespace vecsac {
namespace {

// Tree sum over the block in a fixed order, so results repeat run to run.
__device__ float block_sum(float v, float* shared) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) shared[threadIdx.x] += shared[threadIdx.x + s];
    __syncthreads();
  }
  const float total = shared[0];
  __syncthreads();
  return total;
}

__global__ void stage_kernel(const SacRows p) {
  stage_thread(p, blockIdx.x, blockDim.x, threadIdx.x);
}

__global__ void policy_kernel(const SacRows p) {
  policy_thread(p, blockIdx.x, blockDim.x, threadIdx.x);
}

__global__ void act_stage_kernel(const ActRows p) {
  act_stage_thread(p, blockIdx.x, blockDim.x, threadIdx.x);
}

__global__ void act_sample_kernel(const ActRows p) {
  act_sample_thread(p, blockIdx.x, blockDim.x, threadIdx.x);
}

__global__ void policy_backward_kernel(const SacRows p) {
  policy_backward_thread(p, blockIdx.x, blockDim.x, threadIdx.x);
}

// The bound lets nvcc plan registers for 512 threads (at most 128 each): without it the
// inlined double-precision pow could take more, and every launch would fail.
// The bound lets nvcc plan registers for 512 threads (at most 128 each): without it the
// inlined double-precision pow could take more, and every launch would fail.
__global__ void __launch_bounds__(kReduceThreads) critic_loss_kernel(const SacRows p) {
  __shared__ float shared[kReduceThreads];
  const int64_t k = blockIdx.x;  // one block per agent
  float* s = agent_scalars(p, k);
  const float alpha = expf(s[kLogAlpha]);
  float weight = 0.0f, log_prob = 0.0f;
  for (int64_t r = threadIdx.x; r < p.batch; r += blockDim.x) {
    weight += critic_target_row(p, k, r, alpha);
    log_prob += obs_log_prob(p, k, r);
  }
  const float weight_sum = block_sum(weight, shared);
  const float log_prob_sum = block_sum(log_prob, shared);
  const float inv_mean_weight = static_cast<float>(p.batch) / weight_sum;
  float loss = 0.0f;
  for (int64_t r = threadIdx.x; r < p.batch; r += blockDim.x) {
    loss += critic_grad_row(p, k, r, inv_mean_weight);
  }
  const float loss_sum = block_sum(loss, shared);
  if (threadIdx.x == 0) {
    s[kAlphaUsed] = alpha;
    finish_critic_loss(p, k, log_prob_sum, loss_sum);
  }
}

__global__ void __launch_bounds__(kReduceThreads) actor_loss_kernel(const SacRows p) {
  __shared__ float shared[kReduceThreads];
  const int64_t k = blockIdx.x;
  const float alpha = agent_scalars(p, k)[kAlphaUsed];
  float loss = 0.0f, q_min = 0.0f;
  for (int64_t r = threadIdx.x; r < p.batch; r += blockDim.x) {
    float q = 0.0f;
    loss += actor_loss_row(p, k, r, alpha, &q);
    q_min += q;
  }
  const float loss_sum = block_sum(loss, shared);
  const float q_sum = block_sum(q_min, shared);
  if (threadIdx.x == 0) finish_actor_loss(p, k, loss_sum, q_sum);
}

__global__ void adam_polyak_kernel(const AdamRows adam, const PolyakRows polyak,
                                   const float* scalars, const SacConstants k) {
  adam_polyak_thread(adam, polyak, scalars, k, blockIdx.x, blockDim.x, threadIdx.x);
}

unsigned blocks_of(int64_t n) { return detail::grid_blocks(blocks_for(n, kThreadsPerBlock)); }

}  // namespace

void launch_stage(const SacRows& p, CudaStream stream) {
  if (p.batch == 0) return;
  stage_kernel<<<blocks_of(p.agents * p.batch), kThreadsPerBlock, 0, stream>>>(p);
  VECSAC_CUDA_CHECK(cudaGetLastError());
}

void launch_act_stage(const ActRows& p, CudaStream stream) {
  if (p.n == 0) return;
  act_stage_kernel<<<blocks_of(p.n), kThreadsPerBlock, 0, stream>>>(p);
  VECSAC_CUDA_CHECK(cudaGetLastError());
}

void launch_act_sample(const ActRows& p, CudaStream stream) {
  if (p.n == 0) return;
  act_sample_kernel<<<blocks_of(p.n), kThreadsPerBlock, 0, stream>>>(p);
  VECSAC_CUDA_CHECK(cudaGetLastError());
}

void launch_policy(const SacRows& p, CudaStream stream) {
  if (p.batch == 0) return;
  policy_kernel<<<blocks_of(p.agents * 2 * p.batch), kThreadsPerBlock, 0, stream>>>(p);
  VECSAC_CUDA_CHECK(cudaGetLastError());
}

void launch_critic_loss(const SacRows& p, CudaStream stream) {
  if (p.batch == 0) return;
  critic_loss_kernel<<<detail::grid_blocks(p.agents), kReduceThreads, 0, stream>>>(p);
  VECSAC_CUDA_CHECK(cudaGetLastError());
}

void launch_actor_loss(const SacRows& p, CudaStream stream) {
  if (p.batch == 0) return;
  actor_loss_kernel<<<detail::grid_blocks(p.agents), kReduceThreads, 0, stream>>>(p);
  VECSAC_CUDA_CHECK(cudaGetLastError());
}

void launch_policy_backward(const SacRows& p, CudaStream stream) {
  if (p.batch == 0) return;
  policy_backward_kernel<<<blocks_of(p.agents * p.batch), kThreadsPerBlock, 0, stream>>>(p);
  VECSAC_CUDA_CHECK(cudaGetLastError());
}

void launch_adam_polyak(const AdamRows& adam, const PolyakRows& polyak, const float* scalars,
                        const SacConstants& k, CudaStream stream) {
  const int64_t n = adam.n > polyak.n ? adam.n : polyak.n;
  if (n == 0) return;
  adam_polyak_kernel<<<blocks_of(n), kThreadsPerBlock, 0, stream>>>(adam, polyak, scalars, k);
  VECSAC_CUDA_CHECK(cudaGetLastError());
}

}  // namespace vecsac
