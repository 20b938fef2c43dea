/// @brief A ring buffer of transitions preallocated on the training device.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <vector>

#include "vecsac/random/random_stream.h"
#include "vecsac/replay/replay_rows.h"

namespace vecsac {

struct Batch {
  at::Tensor obs;         ///< [B, obs_dim]
  at::Tensor act;         ///< [B, act_dim]
  at::Tensor reward;      ///< [B]
  at::Tensor next_obs;    ///< [B, obs_dim], the true next observation
  at::Tensor terminated;  ///< [B] float 0/1; truncation is not stored: it bootstraps
};

class ReplayBuffer {
 public:
  /// Bytes that a buffer of `capacity` transitions will allocate.
  static int64_t footprint_bytes(int64_t capacity, int64_t obs_dim, int64_t act_dim);

  /// Allocates every tensor up front on `device`. Throws std::runtime_error
  /// naming sac.buffer_size and the largest capacity that fits when the
  /// footprint exceeds the device's free memory.
  ReplayBuffer(int64_t capacity, int64_t obs_dim, int64_t act_dim, c10::Device device);

  /// One storage for a population's `agents` buffers of `capacity` transitions each
  /// ([agents * capacity, ...] per field, agent-major), so that sample_lockstep gathers all
  /// their batches in one launch. Throws as the constructor does when it does not fit.
  static Batch allocate_rings(int64_t agents, int64_t capacity, int64_t obs_dim, int64_t act_dim,
                              c10::Device device);
  /// Agent `agent`'s buffer in `rings` (allocate_rings with this capacity): views of its rows.
  ReplayBuffer(const Batch& rings, int64_t agent, int64_t capacity);

  /// Inserts one vector step's N transitions at the cursor, wrapping around, in one fused
  /// launch (replay_rows.h). Float32 contiguous inputs and a bool or float `terminated` are
  /// read in place; anything else is converted first.
  /// The cursor and size live on the host and follow from N alone, so this
  /// never synchronises with the device.
  void add(const at::Tensor& obs, const at::Tensor& act, const at::Tensor& reward,
           const at::Tensor& next_obs, const at::Tensor& terminated);

  /// A population's insert: agent a's N rows of the inputs ([K * N, ...], agent-major) go
  /// into buffers[a] as its own add() would put them, all in one launch. The buffers are
  /// agents 0, 1, ... of one allocate_rings storage, at one cursor.
  static void add_lockstep(const std::vector<ReplayBuffer*>& buffers, const at::Tensor& obs,
                           const at::Tensor& act, const at::Tensor& reward,
                           const at::Tensor& next_obs, const at::Tensor& terminated);

  /// B transitions drawn uniformly, with replacement, from the stored ones, the indices
  /// from the next draw of `stream` (random/counter_draws.h) inside one fused gather
  /// (replay_rows.h), into the buffer's own batch tensors, which the next draw overwrites
  /// (no allocation after the first of a batch size).
  const Batch& sample_reused(int64_t batch_size, RandomStream& stream);
  /// The same draw, in tensors of the caller's own.
  Batch sample(int64_t batch_size, RandomStream& stream);
  /// The same draw, written into `out` (contiguous float32 [batch_size, ...] on the buffer's
  /// device): no copy after the gather.
  void sample_into(int64_t batch_size, RandomStream& stream, const Batch& out);
  /// A population's draw: agent a's batch_size rows of `out` ([K * batch_size, ...]) are what
  /// buffers[a]->sample_into would draw with its member of `streams`, all in one gather.
  /// The buffers are agents 0, 1, ... of one allocate_rings storage, holding equally many.
  static void sample_lockstep(const std::vector<ReplayBuffer*>& buffers, int64_t batch_size,
                              LockstepStreams& streams, const Batch& out);

  int64_t size() const { return size_; }
  int64_t capacity() const { return capacity_; }
  int64_t cursor() const { return cursor_; }
  /// The whole storage (obs, act, reward, next_obs, terminated), unwritten rows included.
  Batch storage() const { return {obs_, act_, reward_, next_obs_, terminated_}; }
  /// The stored transitions, for checkpoints: the first size() rows of each field, copied to
  /// host tensors of their own (a view would serialize its whole storage), so a checkpoint of
  /// a buffer far from full holds what was stored, not the capacity; a full buffer's storage.
  Batch stored() const;
  /// Restores a checkpoint's buffer: `rows` are its first rows (size() of them, or the whole
  /// capacity, as checkpoint formats before 4 saved it); the rest become zeros, as in a new
  /// buffer. Refuses a different capacity or row shape, naming them.
  void restore(const Batch& rows, int64_t capacity, int64_t size, int64_t cursor);

 private:
  // Refuses buffers that are not agents 0, 1, ... of one ring storage at one size and cursor.
  static void check_rings(const std::vector<ReplayBuffer*>& buffers, const char* what);
  // Writes `agents` agents' rows at the cursor (the first's, for all); returns rows per agent.
  int64_t insert(const char* what, int64_t agents, const at::Tensor& obs, const at::Tensor& act,
                 const at::Tensor& reward, const at::Tensor& next_obs,
                 const at::Tensor& terminated) const;
  void advance(int64_t n);
  void check_batch_shape(const Batch& out, int64_t rows) const;
  void check_sample(int64_t agents, int64_t batch_size, const at::Tensor& keys,
                    const Batch& out) const;
  // The draw itself, after check_sample.
  void gather(int64_t agents, int64_t batch_size, const at::Tensor& keys, int64_t draw,
              const Batch& out) const;
  int64_t capacity_, obs_dim_, act_dim_;
  c10::Device device_;
  ReplayStorage rows() const;

  int64_t size_ = 0, cursor_ = 0;
  at::Tensor obs_, act_, reward_, next_obs_, terminated_;
  Batch sampled_;  // the last draw
};

}  // namespace vecsac
