/// @brief A point-mass training config small enough for a unit test (seconds, not minutes).
#pragma once

#include <cstdint>

#include "vecsac/config/config.h"

namespace vecsac::testing {

inline Config tiny_config(int64_t total_timesteps) {
  Config c;
  c.env.num_envs = 4;
  c.sac.pi_arch = c.sac.qf_arch = {32, 32};
  c.sac.buffer_size = 2000;
  c.sac.batch_size = 32;
  c.sac.learning_starts = 64;
  c.sac.gradient_steps = 2;
  c.run.total_timesteps = total_timesteps;
  c.run.log_interval = 200;
  c.run.eval_episodes = 3;
  c.run.device = "cpu";
  return c;
}

}  // namespace vecsac::testing
