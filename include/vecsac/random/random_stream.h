/// @brief A run's random stream of one purpose (util/seed_purpose.h) as a key and a draw
/// count, and the fills that draw from K such streams in one launch (random/counter_draws.h).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <vector>

namespace vecsac {

/// Draw d of the stream is a pure function of (key, d): the stream's whole state is its draw
/// count, which checkpoints save, and a population's agents draw together in one launch.
class RandomStream {
 public:
  RandomStream() = default;  ///< key 0 on no device, until assigned
  RandomStream(uint64_t key, c10::Device device);

  /// The draw to make now, counted.
  int64_t next() { return draws_++; }
  int64_t draws() const { return draws_; }
  /// A checkpoint's count (>= 0).
  void set_draws(int64_t draws);
  uint64_t key() const { return key_; }
  /// The key as a [1] int64 tensor on the stream's device: what the fills read.
  const at::Tensor& keys() const { return keys_; }

 private:
  uint64_t key_ = 0;
  int64_t draws_ = 0;
  at::Tensor keys_;
};

/// The streams of one purpose of a population's agents, which draw in lockstep: one fill
/// makes every agent's draw, each the one its own stream would make alone.
class LockstepStreams {
 public:
  LockstepStreams() = default;
  /// Streams on one device at one draw count (not owned; they must outlive this).
  explicit LockstepStreams(std::vector<RandomStream*> members);
  /// The members' common draw, counted in each. Throws naming the counts if they differ.
  int64_t next();
  /// [K] int64 on the members' device.
  const at::Tensor& keys() const { return keys_; }

 private:
  std::vector<RandomStream*> members_;
  at::Tensor keys_;
};

/// Fills `out` (contiguous float32 on keys' device, K = keys.numel() blocks of equal size,
/// agent-major) with draw `draw` of each agent's stream: standard normals, or uniforms in
/// [lo, hi). One launch for any K.
void fill_normal(const at::Tensor& out, const at::Tensor& keys, int64_t draw);
void fill_uniform(const at::Tensor& out, const at::Tensor& keys, int64_t draw, float lo, float hi);

}  // namespace vecsac
