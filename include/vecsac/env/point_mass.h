/// @brief Point mass on `dim` independent axes: the seed notebook's ContinuousPointMass1DEnv.
///
/// Reference: ../shared/seed/sac_notebook.txt, class ContinuousPointMass1DEnv.
/// With dim = 1 every step is bit-for-bit the notebook's: the arithmetic runs
/// in double (Python floats) from the float32 state and the result is stored
/// as float32. With dim > 1 each axis follows the same equations and the
/// reward sums the axes' costs in axis order.
#pragma once

#include <cstdint>

#include "vecsac/detail/hd.h"
#include "vecsac/env/env_params.h"
#include "vecsac/env/reset_stream.h"
#include "vecsac/env/state_ref.h"

namespace vecsac {

struct PointMass {
  // Traits read by the registry (env/env_registry.h).
  static constexpr EnvId kId = EnvId::kPointMass;
  static constexpr const char* kName = "pointmass";
  static constexpr double kActionLimit = 2.0;
  static constexpr int kMaxDim = 1024;  ///< env.dim: independent axes
  static constexpr const char* kStateLayout = "[pos_1..pos_D, vel_1..vel_D]";
  static constexpr bool kExactOptimum = true;  ///< optimum/: evaluations report the gap
  /// The reference's time limit (the notebook); env.max_episode_steps sets vecsac's.
  static constexpr int kReferenceEpisodeSteps = 200;

  static constexpr double kDt = 0.05;

  // State variables: pos_0..pos_{dim-1}, then vel_0..vel_{dim-1}; obs is the state.
  template <class Dim = RuntimeDim>
  VECSAC_HD static int state_dim(const EnvParams& p) {
    return 2 * Dim::of(p);
  }
  template <class Dim = RuntimeDim>
  VECSAC_HD static int obs_dim(const EnvParams& p) {
    return 2 * Dim::of(p);
  }
  template <class Dim = RuntimeDim>
  VECSAC_HD static int act_dim(const EnvParams& p) {
    return Dim::of(p);
  }

  /// Per axis pos, then vel, from U(-1, 1), rounded to float32 as the notebook's
  /// np.array(..., dtype=float32) does.
  VECSAC_HD static void reset(const EnvParams& p, ResetStream& rng, StateRef s) {
    for (int j = 0; j < p.dim; ++j) {
      s[j] = static_cast<float>(rng.uniform(-1.0, 1.0));
      s[p.dim + j] = static_cast<float>(rng.uniform(-1.0, 1.0));
    }
  }

  /// Advances the state by one step and returns the reward of the new state.
  template <class Dim = RuntimeDim>
  VECSAC_HD static double step(const EnvParams& p, StateRef s, const float* action) {
    const int dim = Dim::of(p);
    double cost = 0.0;
    for (int j = 0; j < dim; ++j) {
      // np.clip semantics: a NaN action stays NaN (std::fmin would hide it).
      double a = action[j];
      a = a < -kActionLimit ? -kActionLimit : (a > kActionLimit ? kActionLimit : a);
      const double vel = static_cast<double>(s[dim + j]) + kDt * a;
      const double pos = static_cast<double>(s[j]) + kDt * vel;  // semi-implicit: new vel
      s[j] = static_cast<float>(pos);
      s[dim + j] = static_cast<float>(vel);
      // Same association as the notebook's `pos * pos + 0.1 * vel * vel + 0.001 * a * a`.
      cost += pos * pos + 0.1 * vel * vel + 0.001 * a * a;
    }
    return -cost;
  }

  VECSAC_HD static bool terminated(const EnvParams&, StateRef) { return false; }

  /// Observation element j of obs_dim: the state itself.
  VECSAC_HD static float observation(const EnvParams&, StateRef s, int j) { return s[j]; }
};

}  // namespace vecsac
