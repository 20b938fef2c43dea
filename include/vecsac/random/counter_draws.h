/// @brief Counter-based draws for training's random streams (replay indices, policy noise,
/// exploration actions), shared by the CPU loops and the CUDA kernels (torch-free).
///
/// Element i of draw `draw` of the stream keyed `key` is a pure function of (key, draw, i):
/// Philox4x32-10 keyed on the key and counted on (i, draw). So K agents' draws are one
/// launch over K keys, a draw does not depend on how many others share the launch, the
/// thread that makes it or the device, and a stream's whole state is its draw count.
#pragma once

#include <Random123/philox.h>

#include <cmath>
#include <cstdint>

#include "vecsac/detail/hd.h"
#include "vecsac/detail/launch_geometry.h"
#include "vecsac/detail/stream.h"

namespace vecsac {

/// The four 32-bit words of element i of draw `draw`. Under nvcc Random123 marks Philox
/// device-only, so a .cu file calls these from device code only (as reset_stream.h).
VECSAC_HD inline r123::Philox4x32::ctr_type counter_words(uint64_t key, uint64_t draw, uint64_t i) {
  const r123::Philox4x32::key_type k{
      {static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32)}};
  const r123::Philox4x32::ctr_type c{{static_cast<uint32_t>(i), static_cast<uint32_t>(i >> 32),
                                      static_cast<uint32_t>(draw),
                                      static_cast<uint32_t>(draw >> 32)}};
  return r123::Philox4x32()(c, k);
}

/// A 53-bit uniform in [0, 1) from two words, formed with exact integer and double ops.
VECSAC_HD inline double counter_unit(uint32_t hi, uint32_t lo) {
  return ((hi >> 5) * 67108864.0 + (lo >> 6)) * (1.0 / 9007199254740992.0);
}

/// A uniform index in [0, n), n >= 1: floor(u * n) of a 53-bit u, whose bias (at most
/// n / 2^53) no replay buffer can show.
VECSAC_HD inline int64_t counter_index(uint64_t key, uint64_t draw, uint64_t i, int64_t n) {
  const r123::Philox4x32::ctr_type w = counter_words(key, draw, i);
  const auto k = static_cast<int64_t>(counter_unit(w.v[0], w.v[1]) * static_cast<double>(n));
  return k < n ? k : n - 1;
}

/// A standard normal by Box-Muller in double (u1 in (0, 1], so the log is finite), rounded
/// to float. CUDA's double log and cos are within an ulp or two of glibc's, so the floats
/// agree across devices but for rare last-bit roundings.
VECSAC_HD inline float counter_normal(uint64_t key, uint64_t draw, uint64_t i) {
  const r123::Philox4x32::ctr_type w = counter_words(key, draw, i);
  const double u1 = 1.0 - counter_unit(w.v[0], w.v[1]);
  const double u2 = counter_unit(w.v[2], w.v[3]);
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2));
}

/// A uniform float in [lo, hi) (lo + (hi - lo) * u, u a 24-bit float in [0, 1)).
VECSAC_HD inline float counter_uniform(uint64_t key, uint64_t draw, uint64_t i, float lo,
                                       float hi) {
  const r123::Philox4x32::ctr_type w = counter_words(key, draw, i);
  const float u = static_cast<float>(w.v[0] >> 8) * (1.0f / 16777216.0f);
  return lo + (hi - lo) * u;
}

/// What a fill writes: K agents' blocks of `per_agent` elements each, agent-major; element
/// j of agent a's block is element j of draw `draw` of stream keys[a], whatever K is.
enum class CounterDistribution { kNormal, kUniform };
struct CounterFill {
  float* out;
  const int64_t* keys;  ///< [agents], the 64 key bits of each agent's stream
  int64_t agents, per_agent;
  uint64_t draw;
  CounterDistribution distribution;
  float lo, hi;  ///< kUniform's range
};

VECSAC_HD inline void counter_fill_element(const CounterFill& f, int64_t e) {
  const int64_t agent = e / f.per_agent, j = e - agent * f.per_agent;
  const auto key = static_cast<uint64_t>(f.keys[agent]);
  f.out[e] = f.distribution == CounterDistribution::kNormal
                 ? counter_normal(key, f.draw, static_cast<uint64_t>(j))
                 : counter_uniform(key, f.draw, static_cast<uint64_t>(j), f.lo, f.hi);
}

/// What CUDA thread `thread` of block `block` does (kThreadsPerBlock per block, one element each).
VECSAC_HD inline void counter_fill_thread(const CounterFill& f, int64_t block, int64_t threads,
                                          int64_t thread) {
  const int64_t e = linear_index(block, threads, thread);
  if (e < f.agents * f.per_agent) counter_fill_element(f, e);
}

/// Device pointers; one kernel on `stream`.
void launch_counter_fill(const CounterFill& f, CudaStream stream);

}  // namespace vecsac
