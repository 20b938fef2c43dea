/// @brief own_cpu_gemm's kernels for AVX2 and FMA, compiled with its flags alone (CMakeLists.txt).
#define VECSAC_CPU_GEMM_ISA avx2
#include "cpu_gemm_kernel_body.h"
