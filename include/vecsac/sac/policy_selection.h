/// @brief SelectedPolicy: the actor that scored best on held-out validation starts.
#pragma once

#include <c10/core/Device.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "vecsac/sac/networks.h"

namespace vecsac {

/// Model selection as SB3's EvalCallback keeps a best model, but scored on starts of
/// their own (run.select_episodes), so the evaluation that reports a run stays unseen.
/// Candidates are the actors at the periodic evaluations only: a resumed run then
/// selects exactly as a straight one.
struct SelectedPolicy {
  /// An empty selection for actors of this architecture, kept on `device`, scored on
  /// `episodes` validation starts.
  SelectedPolicy(int64_t obs_dim, int64_t act_dim, const std::vector<int64_t>& hidden,
                 double action_limit, c10::Device device, int64_t episodes);

  /// Keeps a copy of `current` if `score` beats the best so far (ties keep the older).
  void consider(const Actor& current, double score, int64_t global_step);
  bool empty() const { return step < 0; }

  void save(torch::serialize::OutputArchive& archive) const;
  /// A selection scored on another number of starts is not comparable: it is dropped
  /// (the selection starts afresh) and load returns false.
  bool load(torch::serialize::InputArchive& archive);

  Actor actor;
  double score = -std::numeric_limits<double>::infinity();  ///< mean validation return
  int64_t step = -1;  ///< global_step of the kept actor; -1: none yet
  int64_t episodes;   ///< validation starts per score
};

}  // namespace vecsac
