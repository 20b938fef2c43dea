/// @brief Per-row work of the replay buffer's insert and gather, shared by the CPU loop and
/// the CUDA kernels (torch-free, so kernels/ can include it): one launch for all five fields
/// where LibTorch took one copy or index_select per field.
#pragma once

#include <cstdint>

#include "vecsac/detail/hd.h"
#include "vecsac/detail/launch_geometry.h"
#include "vecsac/detail/stream.h"
#include "vecsac/random/counter_draws.h"

namespace vecsac {

/// The buffer's storage: [capacity, dims] row-major float32 per field. A population's agents'
/// buffers are consecutive rings of one storage: agent a's row r is row a * capacity + r.
struct ReplayStorage {
  float* obs;
  float* act;
  float* reward;
  float* next_obs;
  float* terminated;  ///< 0 or 1
  int64_t capacity, obs_dim, act_dim;
};

/// One vector step's n transitions of each of `agents` agents (rows agent-major), agent a's
/// written to slots cursor, cursor + 1, ... (mod capacity; n <= capacity) of its ring, so
/// that every agent's ring gets what its own insert would write. `terminated` comes as bool
/// (an env's flags) or float, whichever is set.
struct InsertRows {
  const float* obs;
  const float* act;
  const float* reward;
  const float* next_obs;
  const bool* terminated_bool;
  const float* terminated_float;
  int64_t n, cursor;
  int64_t agents = 1;
};

VECSAC_HD inline void insert_row(const ReplayStorage& s, const InsertRows& in, int64_t i) {
  // A single buffer's insert skips the division: it costs a fifth of a row's copy.
  const int64_t agent = in.agents == 1 ? 0 : i / in.n;
  const int64_t slot = agent * s.capacity + (in.cursor + i - agent * in.n) % s.capacity;
  for (int64_t j = 0; j < s.obs_dim; ++j) {
    s.obs[slot * s.obs_dim + j] = in.obs[i * s.obs_dim + j];
    s.next_obs[slot * s.obs_dim + j] = in.next_obs[i * s.obs_dim + j];
  }
  for (int64_t j = 0; j < s.act_dim; ++j) s.act[slot * s.act_dim + j] = in.act[i * s.act_dim + j];
  s.reward[slot] = in.reward[i];
  s.terminated[slot] = in.terminated_bool != nullptr ? (in.terminated_bool[i] ? 1.0f : 0.0f)
                                                     : in.terminated_float[i];
}

/// A sampled batch of `agents` x `batch` rows, agent-major: row j of agent a is its ring's
/// transition counter_index(keys[a], draw, j, size), drawn in the gather itself (no index
/// tensor), so agent a's rows are those its buffer alone would give with its stream.
struct GatherRows {
  const int64_t* keys;  ///< [agents]: each agent's replay stream key
  uint64_t draw;
  int64_t size;  ///< transitions stored in each ring (the same in every agent's)
  float* obs;
  float* act;
  float* reward;
  float* next_obs;
  float* terminated;
  int64_t batch, agents;
};

VECSAC_HD inline void gather_row(const ReplayStorage& s, const GatherRows& out, int64_t i) {
  const int64_t agent = i / out.batch, j = i - agent * out.batch;
  const int64_t k =
      agent * s.capacity + counter_index(static_cast<uint64_t>(out.keys[agent]), out.draw,
                                         static_cast<uint64_t>(j), out.size);
  for (int64_t c = 0; c < s.obs_dim; ++c) {
    out.obs[i * s.obs_dim + c] = s.obs[k * s.obs_dim + c];
    out.next_obs[i * s.obs_dim + c] = s.next_obs[k * s.obs_dim + c];
  }
  for (int64_t c = 0; c < s.act_dim; ++c) out.act[i * s.act_dim + c] = s.act[k * s.act_dim + c];
  out.reward[i] = s.reward[k];
  out.terminated[i] = s.terminated[k];
}

/// What CUDA thread `thread` of block `block` does (kThreadsPerBlock per block, one per row).
VECSAC_HD inline void insert_thread(const ReplayStorage& s, const InsertRows& in, int64_t block,
                                    int64_t threads, int64_t thread) {
  const int64_t i = linear_index(block, threads, thread);
  if (i < in.n * in.agents) insert_row(s, in, i);
}
VECSAC_HD inline void gather_thread(const ReplayStorage& s, const GatherRows& out, int64_t block,
                                    int64_t threads, int64_t thread) {
  const int64_t i = linear_index(block, threads, thread);
  if (i < out.batch * out.agents) gather_row(s, out, i);
}

/// Device pointers; one kernel each on `stream`.
void launch_replay_insert(const ReplayStorage& s, const InsertRows& in, CudaStream stream);
void launch_replay_gather(const ReplayStorage& s, const GatherRows& out, CudaStream stream);

}  // namespace vecsac
