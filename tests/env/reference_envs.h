/// @brief Straightforward scalar reference loops of the two envs, written from the
/// equations in issue #3 (notebook ContinuousPointMass1DEnv, gymnasium Pendulum-v1),
/// independent of the SoA/StateRef code under test.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace vecsac::testing {

struct RefPointMass {
  std::vector<float> pos, vel;  // one entry per axis
  /// One step of the notebook's env per axis; returns the reward as a double.
  double step(const std::vector<float>& action) {
    double cost = 0.0;
    for (size_t j = 0; j < pos.size(); ++j) {
      const double a = std::clamp(static_cast<double>(action[j]), -2.0, 2.0);
      const double v = vel[j] + 0.05 * a;
      const double p = pos[j] + 0.05 * v;
      vel[j] = static_cast<float>(v);
      pos[j] = static_cast<float>(p);
      cost += p * p + 0.1 * v * v + 0.001 * a * a;
    }
    return -cost;
  }
};

struct RefPendulum {
  float th, thdot;
  static double angle_normalize(double x) {
    // Python's float %: the result has the sign of the divisor.
    const double two_pi = 2.0 * M_PI;
    const double m = x + M_PI - two_pi * std::floor((x + M_PI) / two_pi);
    return m - M_PI;
  }
  double step(float action) {
    const double u = std::clamp(static_cast<double>(action), -2.0, 2.0);
    const double t = th, td = thdot;
    const double cost = angle_normalize(t) * angle_normalize(t) + 0.1 * td * td + 0.001 * u * u;
    const double new_td = std::clamp(td + (3 * 10.0 / 2 * std::sin(t) + 3.0 * u) * 0.05, -8.0, 8.0);
    th = static_cast<float>(t + new_td * 0.05);
    thdot = static_cast<float>(new_td);
    return -cost;
  }
};

}  // namespace vecsac::testing
