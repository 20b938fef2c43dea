/// @brief CUDA launchers of the VecEnv ops (kernels/vec_env.cu): raw pointers, sizes and a stream.
#pragma once

#include "vecsac/detail/stream.h"
#include "vecsac/env/vec_env_ops.h"

namespace vecsac {

// Each launches op.run<Env>(i) for i in [0, op.n) on `stream`, checks the launch
// and returns without waiting; a CUDA error throws std::runtime_error. Defined
// only when vecsac is built with VECSAC_CUDA=ON (callers guard on VECSAC_WITH_CUDA).
void launch_vec_env(const StepOp& op, CudaStream stream);
void launch_vec_env(const ResetOp& op, CudaStream stream);
void launch_vec_env(const ObserveOp& op, CudaStream stream);

}  // namespace vecsac
