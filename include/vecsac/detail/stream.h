/// @brief An opaque CUDA stream handle for torch-free, CUDA-free interfaces.
#pragma once

// cudaStream_t is `CUstream_st*`; forward-declaring it keeps the kernel ABI
// headers includable from translation units that never see the CUDA runtime.
struct CUstream_st;

namespace vecsac {
using CudaStream = CUstream_st*;
}  // namespace vecsac
