/// @brief own_cpu_gemm's kernels for AVX-512 (F, VL), compiled with its flags alone
/// (CMakeLists.txt).
#define VECSAC_CPU_GEMM_ISA avx512
#include "cpu_gemm_kernel_body.h"
