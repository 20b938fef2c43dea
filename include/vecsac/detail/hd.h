/// @brief VECSAC_HD marks functions shared by CUDA kernels and CPU loops.
#pragma once

// Plain C++ compilers never see __host__/__device__, so the per-element headers
// stay includable from torch code and from tests built without CUDA.
#if defined(__CUDACC__)
#define VECSAC_HD __host__ __device__
#else
#define VECSAC_HD
#endif
