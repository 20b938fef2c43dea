/// @brief Counter-based uniform draws for env resets, identical on CPU and CUDA.
#pragma once

#include <Random123/philox.h>

#include <cstdint>

#include "vecsac/detail/hd.h"
#include "vecsac/random/counter_draws.h"

namespace vecsac {

/// The uniform draws of one reset: env `env` starting its episode `episode`
/// under seed `seed`. Philox4x32-10 is keyed on the seed and counted on
/// (draw block, episode, env), so a draw depends on nothing else: not on the
/// number of envs, the launch shape, the thread that runs it or the device.
///
/// Under nvcc, Random123 marks Philox's operator() __device__ only, so a .cu file
/// may call uniform() from device code only; host code (the CPU loop) is built
/// by the C++ compiler, where it is a plain function.
class ResetStream {
 public:
  VECSAC_HD ResetStream(uint64_t seed, int64_t env, int64_t episode)
      : key_{{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)}},
        ctr_{{0u, static_cast<uint32_t>(episode), static_cast<uint32_t>(env),
              static_cast<uint32_t>(static_cast<uint64_t>(env) >> 32)}} {}

  /// Next draw from U[lo, hi), formed as numpy does (lo + (hi - lo) * u) from a
  /// 53-bit u in [0, 1). Only exact integer ops and IEEE double mul/add are used;
  /// the kernels are built with --fmad=false so CUDA rounds exactly like the CPU.
  VECSAC_HD double uniform(double lo, double hi) {
    if (used_ == 0) {
      block_ = r123::Philox4x32()(ctr_, key_);
      ++ctr_.v[0];
    }
    const double u = counter_unit(block_.v[used_], block_.v[used_ + 1]);
    used_ = (used_ + 2) & 3;
    return lo + (hi - lo) * u;
  }

 private:
  r123::Philox4x32::key_type key_;
  r123::Philox4x32::ctr_type ctr_;
  r123::Philox4x32::ctr_type block_{};
  int used_ = 0;
};

}  // namespace vecsac
