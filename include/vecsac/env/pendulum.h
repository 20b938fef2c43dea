/// @brief Gymnasium's Pendulum-v1 (the seed notebook's alternative environment).
///
/// Reference: gymnasium/envs/classic_control/pendulum.py (PendulumEnv.step,
/// reset, _get_obs, angle_normalize), g = 10, m = l = 1, dt = 0.05.
/// Deviation from gymnasium: the state is stored as float32 (gymnasium keeps
/// float64); each step computes in double from the float32 state, like the
/// point mass, so trajectories agree with gymnasium to float32 round-off.
#pragma once

#include <cmath>
#include <cstdint>

#include "vecsac/detail/hd.h"
#include "vecsac/env/env_params.h"
#include "vecsac/env/reset_stream.h"
#include "vecsac/env/state_ref.h"

namespace vecsac {

struct Pendulum {
  // Traits read by the registry (env/env_registry.h).
  static constexpr EnvId kId = EnvId::kPendulum;
  static constexpr const char* kName = "pendulum";
  static constexpr double kMaxTorque = 2.0;
  static constexpr double kActionLimit = kMaxTorque;
  static constexpr int kMaxDim = 1;
  static constexpr const char* kStateLayout = "[theta, theta_dot]";
  static constexpr bool kExactOptimum = false;
  /// The reference's time limit (gymnasium's Pendulum-v1); env.max_episode_steps sets vecsac's.
  static constexpr int kReferenceEpisodeSteps = 200;

  static constexpr double kPi = 3.141592653589793;  // np.pi
  static constexpr double kMaxSpeed = 8.0;
  static constexpr double kDt = 0.05;
  static constexpr double kGravityTerm = 3.0 * 10.0 / (2.0 * 1.0);  // 3 g / (2 l)
  static constexpr double kTorqueTerm = 3.0 / (1.0 * 1.0 * 1.0);    // 3 / (m l^2)

  // State variables: theta (unwrapped), theta_dot. Obs: cos, sin, theta_dot.
  template <class Dim = RuntimeDim>
  VECSAC_HD static constexpr int state_dim(const EnvParams&) {
    return 2;
  }
  template <class Dim = RuntimeDim>
  VECSAC_HD static constexpr int obs_dim(const EnvParams&) {
    return 3;
  }
  template <class Dim = RuntimeDim>
  VECSAC_HD static constexpr int act_dim(const EnvParams&) {
    return 1;
  }

  /// ((x + pi) mod 2 pi) - pi with Python's float modulo: the result of the
  /// modulo takes the divisor's sign (np.remainder), unlike C's fmod.
  VECSAC_HD static double angle_normalize(double x) {
    const double two_pi = 2.0 * kPi;
    double m = std::fmod(x + kPi, two_pi);
    if (m != 0.0) {
      if (m < 0.0) m += two_pi;
    } else {
      m = 0.0;  // copysign(0, divisor): drops a -0.0 from fmod
    }
    return m - kPi;
  }

  /// theta ~ U(-pi, pi), then theta_dot ~ U(-1, 1).
  VECSAC_HD static void reset(const EnvParams&, ResetStream& rng, StateRef s) {
    s[0] = static_cast<float>(rng.uniform(-kPi, kPi));
    s[1] = static_cast<float>(rng.uniform(-1.0, 1.0));
  }

  /// Returns -cost, the cost being taken on the state before the step.
  template <class Dim = RuntimeDim>
  VECSAC_HD static double step(const EnvParams&, StateRef s, const float* action) {
    const double th = s[0];
    const double thdot = s[1];
    double u = action[0];
    u = u < -kMaxTorque ? -kMaxTorque : (u > kMaxTorque ? kMaxTorque : u);
    const double an = angle_normalize(th);
    const double cost = an * an + 0.1 * (thdot * thdot) + 0.001 * (u * u);
    double newthdot = thdot + (kGravityTerm * std::sin(th) + kTorqueTerm * u) * kDt;
    newthdot = newthdot < -kMaxSpeed ? -kMaxSpeed : (newthdot > kMaxSpeed ? kMaxSpeed : newthdot);
    const double newth = th + newthdot * kDt;
    s[0] = static_cast<float>(newth);
    s[1] = static_cast<float>(newthdot);
    return -cost;
  }

  VECSAC_HD static bool terminated(const EnvParams&, StateRef) { return false; }

  /// Observation element j of [cos theta, sin theta, theta_dot].
  VECSAC_HD static float observation(const EnvParams&, StateRef s, int j) {
    const double th = s[0];
    return j == 0 ? static_cast<float>(std::cos(th))
                  : (j == 1 ? static_cast<float>(std::sin(th)) : s[1]);
  }
};

}  // namespace vecsac
