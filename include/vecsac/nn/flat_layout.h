/// @brief Where each member's block lies in a flat parameter buffer (torch-free, for kernels):
/// what a per-agent optimizer step needs to know of nn/flat_mlp.h's layout.
#pragma once

#include <cstdint>

#include "vecsac/detail/hd.h"

namespace vecsac {

/// Layer l spans [offset[l], offset[l + 1]) and holds its members' [in + 1, out] blocks of
/// member_size[l] floats side by side; member e belongs to agent e / members_per_agent.
struct FlatLayout {
  static constexpr int kMaxLayers = 8;
  int layers = 0;
  int64_t offset[kMaxLayers + 1] = {};
  int64_t member_size[kMaxLayers] = {};
  int64_t members_per_agent = 1;
};

/// The agent that owns element i (i < offset[layers]).
VECSAC_HD inline int64_t agent_of(const FlatLayout& f, int64_t i) {
  int l = 0;
  while (l + 1 < f.layers && i >= f.offset[l + 1]) ++l;
  return (i - f.offset[l]) / f.member_size[l] / f.members_per_agent;
}

/// Calls fn(agent, lo, hi) for each run [lo, hi) of [begin, end) owned by one agent, in
/// order: the CPU loops keep a fixed per-agent step size over each run (and vectorise it).
template <typename Fn>
inline void for_each_agent_run(const FlatLayout& f, int64_t begin, int64_t end, Fn&& fn) {
  for (int l = 0; l < f.layers && begin < end; ++l) {
    const int64_t lo = begin > f.offset[l] ? begin : f.offset[l];
    const int64_t layer_end = end < f.offset[l + 1] ? end : f.offset[l + 1];
    for (int64_t at = lo; at < layer_end;) {
      const int64_t member = (at - f.offset[l]) / f.member_size[l];
      const int64_t member_end = f.offset[l] + (member + 1) * f.member_size[l];
      const int64_t hi = member_end < layer_end ? member_end : layer_end;
      fn(member / f.members_per_agent, at, hi);
      at = hi;
    }
  }
}

}  // namespace vecsac
