/// @brief CUDA drivers of the replay buffer's fused insert and gather: one thread per row.
#include "vecsac/detail/cuda_check.h"
#include "vecsac/replay/replay_rows.h"

namespace vecsac {
namespace {

__global__ void insert_kernel(const ReplayStorage s, const InsertRows in) {
  insert_thread(s, in, blockIdx.x, blockDim.x, threadIdx.x);
}

__global__ void gather_kernel(const ReplayStorage s, const GatherRows out) {
  gather_thread(s, out, blockIdx.x, blockDim.x, threadIdx.x);
}

}  // namespace

void launch_replay_insert(const ReplayStorage& s, const InsertRows& in, CudaStream stream) {
  const int64_t rows = in.n * in.agents;
  if (rows == 0) return;
  insert_kernel<<<detail::grid_blocks(blocks_for(rows, kThreadsPerBlock)), kThreadsPerBlock, 0,
                  stream>>>(s, in);
  VECSAC_CUDA_CHECK(cudaGetLastError());
}

void launch_replay_gather(const ReplayStorage& s, const GatherRows& out, CudaStream stream) {
  const int64_t rows = out.batch * out.agents;
  if (rows == 0) return;
  gather_kernel<<<detail::grid_blocks(blocks_for(rows, kThreadsPerBlock)), kThreadsPerBlock, 0,
                  stream>>>(s, out);
  VECSAC_CUDA_CHECK(cudaGetLastError());
}

}  // namespace vecsac
