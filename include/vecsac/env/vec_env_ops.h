/// @brief The per-env bodies of VecEnv's ops, shared verbatim by the CUDA kernels and the CPU loop.
///
/// Each op is a plain struct of raw pointers with `template <class Env> run(i)`;
/// the CUDA side wraps it in a 3-line kernel (kernels/vec_env.cu), the CPU side
/// in a loop (src/env/vec_env.cpp). Nothing here includes CUDA or torch.
#pragma once

#include <cstdint>

#include "vecsac/detail/hd.h"
#include "vecsac/detail/launch_geometry.h"
#include "vecsac/env/env_params.h"
#include "vecsac/env/env_registry.h"
#include "vecsac/env/reset_stream.h"
#include "vecsac/env/state_ref.h"

namespace vecsac {

/// Per-env state and counters. A population's VecEnv holds its agents' envs as consecutive
/// blocks of `block` envs, each block with its own reset key: env i is env i % block of agent
/// i / block, and draws exactly what that env of the agent's own VecEnv would. One agent's
/// view (VecEnv::agent) points at its block of the same storage.
struct VecEnvBuffers {
  float* state;            ///< variable j of env i at state[j * stride + i]
  int32_t* elapsed;        ///< steps taken in the current episode
  int64_t* episode;        ///< index of the current episode: the reset draws' counter
  double* episode_return;  ///< return so far of the current episode (rewards summed in double)
  // Finished-episode accumulators, per env so no atomics are needed and the sums
  // are deterministic; the trainer reduces and clears them at log points.
  int64_t* finished_count;
  double* finished_return_sum;
  int64_t* finished_length_sum;
  /// Per agent: episodes with a lower index stay out of the finished-episode sums, 1 after
  /// VecEnv::stagger_time_limits() cut the first episodes short, else 0. On the device, as
  /// the keys, so that nothing a step reads is a host value a CUDA graph would freeze.
  const int64_t* first_recorded_episode;
  const int64_t* seeds;  ///< per agent: the key of its reset draws (uint64 bits)
  int64_t block;         ///< envs per agent
  int64_t stride;        ///< envs in the whole storage

  VECSAC_HD StateRef state_of(int64_t i) const { return StateRef{state + i, stride}; }
  /// The reset draws of env i's episode `episode`: those of its agent's env i % block.
  VECSAC_HD ResetStream reset_stream(int64_t i, int64_t episode) const {
    const int64_t agent = i / block;
    return ResetStream(static_cast<uint64_t>(seeds[agent]), i - agent * block, episode);
  }
  VECSAC_HD bool recorded(int64_t i) const {
    return episode[i] >= first_recorded_episode[i / block];
  }
};

/// Writes env's observation of state `s` to `row` (obs_dim floats).
template <class Env>
VECSAC_HD void write_observation(const EnvParams& p, StateRef s, float* row) {
  for (int j = 0; j < Env::obs_dim(p); ++j) row[j] = Env::observation(p, s, j);
}

/// One vector step: act, record the true next obs, then auto-reset finished envs.
struct StepOp {
  EnvParams params;  ///< every agent's but the seed, which comes from buf.seeds
  VecEnvBuffers buf;
  int64_t n;
  const float* actions;  ///< [n, act_dim]
  float* next_obs;       ///< [n, obs_dim] true next observation, before any reset
  float* obs;            ///< [n, obs_dim] what the policy sees next (after resets)
  float* reward;         ///< [n]
  bool* terminated;      ///< [n]
  bool* truncated;       ///< [n]

  /// Phase 1, branch-free so the CPU loop can vectorize it: the step, its
  /// reward and flags, the next obs, and obs/counters as if the episode went on.
  /// Returns whether the episode ended (then end_episode(i) must follow).
  template <class Env, class Dim = RuntimeDim>
  VECSAC_HD bool advance(int64_t i) const {
    const StateRef s = buf.state_of(i);
    const int obs_dim = Env::template obs_dim<Dim>(params);
    const double r =
        Env::template step<Dim>(params, s, actions + i * Env::template act_dim<Dim>(params));
    reward[i] = static_cast<float>(r);
    const int32_t t = buf.elapsed[i] + 1;
    const bool term = Env::terminated(params, s);
    const bool trunc = t >= params.max_episode_steps;
    terminated[i] = term;
    truncated[i] = trunc;
    buf.elapsed[i] = t;
    buf.episode_return[i] += r;
    // Each value goes to both rows from a register: copying next_obs into obs
    // afterwards would reload just-stored floats, and store-to-load forwarding
    // stalls on such merged loads (measured ~1.6x slower on the CPU).
    for (int j = 0; j < obs_dim; ++j) {
      const float v = Env::observation(params, s, j);
      next_obs[i * obs_dim + j] = v;
      obs[i * obs_dim + j] = v;
    }
    return term || trunc;
  }

  /// Phase 2, for an env whose episode just ended: record it, start the next one.
  template <class Env>
  VECSAC_HD void end_episode(int64_t i) const {
    if (buf.recorded(i)) {
      buf.finished_count[i] += 1;
      buf.finished_return_sum[i] += buf.episode_return[i];
      buf.finished_length_sum[i] += buf.elapsed[i];
    }
    const int64_t e = buf.episode[i] + 1;
    buf.episode[i] = e;
    const StateRef s = buf.state_of(i);
    ResetStream rng = buf.reset_stream(i, e);
    Env::reset(params, rng, s);
    buf.elapsed[i] = 0;
    buf.episode_return[i] = 0.0;
    write_observation<Env>(params, s, obs + i * Env::obs_dim(params));
  }

  template <class Env>
  VECSAC_HD void run(int64_t i) const {
    if (params.action_repeat == 1) {
      if (advance<Env>(i)) end_episode<Env>(i);
      return;
    }
    // Each sub-step rounds its reward to float, as a single step does; the
    // sum is in double so the held action's reward is that sum rounded once.
    double total = 0.0;
    for (int32_t k = 0; k < params.action_repeat; ++k) {
      const bool done = advance<Env>(i);
      total += reward[i];
      if (done) {
        end_episode<Env>(i);
        break;
      }
    }
    reward[i] = static_cast<float>(total);
  }
};

/// Starts episode `episode[i]` of every env from its reset draws.
struct ResetOp {
  EnvParams params;
  VecEnvBuffers buf;
  int64_t n;
  float* obs;  ///< [n, obs_dim]

  template <class Env>
  VECSAC_HD void run(int64_t i) const {
    const StateRef s = buf.state_of(i);
    ResetStream rng = buf.reset_stream(i, buf.episode[i]);
    Env::reset(params, rng, s);
    buf.elapsed[i] = 0;
    buf.episode_return[i] = 0.0;
    write_observation<Env>(params, s, obs + i * Env::obs_dim(params));
  }
};

/// Writes every env's observation of its current state (after a state is set by hand).
struct ObserveOp {
  EnvParams params;
  float* state;    ///< variable j of env i at state[j * stride + i]
  int64_t n;       ///< envs to observe
  int64_t stride;  ///< envs in the whole storage
  float* obs;      ///< [n, obs_dim]

  template <class Env>
  VECSAC_HD void run(int64_t i) const {
    write_observation<Env>(params, StateRef{state + i, stride}, obs + i * Env::obs_dim(params));
  }
};

/// What CUDA thread `thread` of block `block` does in a 1-D launch of `op`: the
/// whole body of the kernel, here so that CPU tests can replay a launch grid.
template <class Env, class Op>
VECSAC_HD void run_env_thread(const Op& op, int64_t block, int64_t threads, int64_t thread) {
  const int64_t i = linear_index(block, threads, thread);
  if (i >= op.n) return;
  op.template run<Env>(i);
}

/// Sizes of an env, for code that does not template on it.
inline int env_state_dim(const EnvParams& p) {
  int d = 0;
  visit_env(p.id, [&](auto env) { d = decltype(env)::state_dim(p); });
  return d;
}
inline int env_obs_dim(const EnvParams& p) {
  int d = 0;
  visit_env(p.id, [&](auto env) { d = decltype(env)::obs_dim(p); });
  return d;
}
inline int env_act_dim(const EnvParams& p) {
  int d = 0;
  visit_env(p.id, [&](auto env) { d = decltype(env)::act_dim(p); });
  return d;
}

}  // namespace vecsac
