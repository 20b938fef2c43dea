/// @brief The training state a run owns (envs, replay, learner, generators, counters,
/// selected policy), built from its config as `vecsac train` builds it: one constructor for
/// the trainer, a population's agents, the benchmarks, the tests and the fuzzers.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <memory>
#include <optional>

#include "vecsac/config/config.h"
#include "vecsac/env/vec_env.h"
#include "vecsac/replay/replay_buffer.h"
#include "vecsac/sac/checkpoint.h"
#include "vecsac/sac/learner.h"
#include "vecsac/sac/policy_selection.h"

namespace vecsac {

/// A population member's place: the shared engine, the agent's index in it, the replay
/// storage of the engine's agents (ReplayBuffer::allocate_rings), whose ring `agent` it takes,
/// and their envs (a VecEnv of agent blocks), whose block `agent` it takes.
struct PopulationSeat {
  std::shared_ptr<FusedSacUpdate> engine;
  int64_t agent = 0;
  Batch replay_rings;
  std::shared_ptr<VecEnv> envs;
};

struct TrainingParts {
  /// Every random stream derives from config.run.seed (util/seed_purpose.h); `seat`: the
  /// learner is that agent of a population's engine (whose device it takes).
  TrainingParts(const Config& config, c10::Device device, const PopulationSeat* seat = nullptr);
  TrainingParts(const TrainingParts&) = delete;
  TrainingParts& operator=(const TrainingParts&) = delete;

  /// References to every part, the unit of checkpointing.
  TrainingState ref() {
    return {learner,
            replay,
            env,
            replay_stream,
            explore_stream,
            counters,
            selected ? &*selected : nullptr};
  }

  VecEnv env;
  ReplayBuffer replay;
  SacLearner learner;
  RandomStream replay_stream, explore_stream;
  LoopCounters counters;
  std::optional<SelectedPolicy> selected;  ///< with run.select_episodes > 0
};

}  // namespace vecsac
