/// @brief Which environment a VecEnv runs, and its per-run constants.
#pragma once

#include <cstdint>

#include "vecsac/detail/hd.h"

namespace vecsac {

enum class EnvId : int32_t { kPointMass = 0, kPendulum = 1, kMountainCar = 2 };

/// Plain data passed by value to kernels: no pointers, no torch, no CUDA.
struct EnvParams {
  EnvId id = EnvId::kPointMass;
  int32_t dim = 1;                  ///< independent axes (point mass only; pendulum has 1)
  int32_t max_episode_steps = 200;  ///< time limit; reaching it truncates, never terminates
  uint64_t seed = 0;                ///< key of every reset draw (see ResetStream)
  /// Env steps per action (the action is held; the step's reward is their sum).
  /// An episode that ends within them ends the step there.
  int32_t action_repeat = 1;
};

/// How an env reads its number of axes: at run time (any dim), or fixed at
/// compile time so the CPU loop can vectorize the common dim = 1 case. Both give
/// the same arithmetic; only the loop structure the compiler sees differs.
struct RuntimeDim {
  VECSAC_HD static int of(const EnvParams& p) { return p.dim; }
};
template <int kDim>
struct FixedDim {
  VECSAC_HD static constexpr int of(const EnvParams&) { return kDim; }
};

}  // namespace vecsac
