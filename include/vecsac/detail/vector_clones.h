/// @brief VECSAC_VECTOR_CLONES: a CPU element loop compiled for each x86 vector unit and
/// chosen when the program loads (GCC's target_clones, an ifunc), so the build needs no
/// -march and the loop still runs 16 lanes wide on AVX-512 (4 with the x86-64 baseline's SSE2).
///
/// Only for loops whose results do not depend on the vector width: vecsac builds with
/// -ffp-contract=off (no FMA contraction in any clone), and +, -, *, / and sqrt are correctly
/// rounded at every width; a loop that reduces across elements does not belong here.
#pragma once

// Not under AddressSanitizer: an ifunc resolver runs while the program is being relocated,
// before the sanitizer's runtime has started, a combination CI does not need to test. (The
// plain loop computes the same results.)
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__) && \
    !defined(__SANITIZE_ADDRESS__)
#define VECSAC_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VECSAC_VECTOR_CLONES
#endif
