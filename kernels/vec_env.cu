/// @brief CUDA drivers of the VecEnv ops: one thread per env running the shared body.
#include "vecsac/detail/cuda_check.h"
#include "vecsac/detail/launch_geometry.h"
#include "vecsac/env/vec_env_launch.h"

namespace vecsac {
namespace {

template <class Env, class Op>
__global__ void vec_env_kernel(const Op op) {
  run_env_thread<Env>(op, blockIdx.x, blockDim.x, threadIdx.x);
}

template <class Op>
void launch(const Op& op, CudaStream stream) {
  const int64_t blocks = blocks_for(op.n, kThreadsPerBlock);
  if (blocks == 0) return;
  visit_env(op.params.id, [&](auto env) {
    vec_env_kernel<decltype(env)>
        <<<static_cast<unsigned>(blocks), kThreadsPerBlock, 0, stream>>>(op);
    VECSAC_CUDA_CHECK(cudaGetLastError());
  });
}

}  // namespace

void launch_vec_env(const StepOp& op, CudaStream stream) { launch(op, stream); }
void launch_vec_env(const ResetOp& op, CudaStream stream) { launch(op, stream); }
void launch_vec_env(const ObserveOp& op, CudaStream stream) { launch(op, stream); }

}  // namespace vecsac
