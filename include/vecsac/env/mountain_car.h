/// @brief gymnasium's MountainCarContinuous-v0 (gymnasium 1.4.0, NumPy 2), step for step.
///
/// gymnasium keeps the state as float32 and computes with NumPy scalars, whose arithmetic
/// with Python floats stays in float32 (NEP 50: the Python float is cast to float32 first);
/// math.cos and the reward are Python (double) arithmetic. This struct repeats each operation
/// at its precision. One difference: gymnasium's reset state is float64 until the first step
/// (U(-0.6, -0.4), 0), vecsac's is the float32 observation, so an episode's first step can
/// differ from gymnasium's in the last bit; every later step, and every step from a given
/// observation (tools/crosscheck_envs.py), is gymnasium's.
#pragma once

#include <cmath>

#include "vecsac/detail/hd.h"
#include "vecsac/env/env_params.h"
#include "vecsac/env/reset_stream.h"
#include "vecsac/env/state_ref.h"

namespace vecsac {

struct MountainCar {
  // Traits read by the registry (env/env_registry.h).
  static constexpr EnvId kId = EnvId::kMountainCar;
  static constexpr const char* kName = "mountaincar";
  static constexpr double kActionLimit = 1.0;
  static constexpr int kMaxDim = 1;
  static constexpr const char* kStateLayout = "[position, velocity]";
  static constexpr bool kExactOptimum = false;
  /// The reference's time limit (gymnasium's MountainCarContinuous-v0); env.max_episode_steps sets
  /// vecsac's.
  static constexpr int kReferenceEpisodeSteps = 999;

  static constexpr float kMinPosition = -1.2f, kMaxPosition = 0.6f, kMaxSpeed = 0.07f;
  static constexpr float kGoalPosition = 0.45f, kPower = 0.0015f;

  template <class Dim = RuntimeDim>
  VECSAC_HD static constexpr int state_dim(const EnvParams&) {
    return 2;
  }
  template <class Dim = RuntimeDim>
  VECSAC_HD static constexpr int obs_dim(const EnvParams&) {
    return 2;
  }
  template <class Dim = RuntimeDim>
  VECSAC_HD static constexpr int act_dim(const EnvParams&) {
    return 1;
  }

  /// position ~ U(-0.6, -0.4), velocity 0.
  VECSAC_HD static void reset(const EnvParams&, ResetStream& rng, StateRef s) {
    s[0] = static_cast<float>(rng.uniform(-0.6, -0.4));
    s[1] = 0.0f;
  }

  VECSAC_HD static bool at_goal(float position, float velocity) {
    return position >= kGoalPosition && velocity >= 0.0f;
  }

  /// Returns 100 at the goal, minus 0.1 a^2 of the action as given (unclipped, as gymnasium).
  template <class Dim = RuntimeDim>
  VECSAC_HD static double step(const EnvParams&, StateRef s, const float* action) {
    const float a = action[0];
    float position = s[0], velocity = s[1];
    // force = min(max(a, -1.0), 1.0): a NumPy float32, or the Python float bound it hit.
    const double slope = 0.0025 * std::cos(static_cast<double>(3.0f * position));
    float delta;
    if (-1.0f > a || 1.0f < a) {
      delta = static_cast<float>((a < 0.0f ? -1.0 : 1.0) * 0.0015 - slope);  // all double
    } else {
      delta = a * kPower - static_cast<float>(slope);
    }
    velocity = velocity + delta;
    if (velocity > kMaxSpeed) velocity = kMaxSpeed;
    if (velocity < -kMaxSpeed) velocity = -kMaxSpeed;
    position = position + velocity;
    if (position > kMaxPosition) position = kMaxPosition;
    if (position < kMinPosition) position = kMinPosition;
    if (position == kMinPosition && velocity < 0.0f) velocity = 0.0f;
    s[0] = position;
    s[1] = velocity;
    const double ad = a;
    return (at_goal(position, velocity) ? 100.0 : 0.0) - ad * ad * 0.1;
  }

  VECSAC_HD static bool terminated(const EnvParams&, StateRef s) { return at_goal(s[0], s[1]); }

  VECSAC_HD static float observation(const EnvParams&, StateRef s, int j) { return s[j]; }
};

}  // namespace vecsac
