/// @brief Population training: K independent SAC runs (seeds, per-agent hyperparameters) in
/// one process, every network op batched through one engine for all of them.
#pragma once

#include <string>
#include <vector>

#include "vecsac/config/config.h"
#include "vecsac/sac/trainer.h"

namespace vecsac {

/// One agent of a population: its config (validated) and run directory options. Agent k's
/// run directory, files and checkpoints are those of `vecsac train` with its config.
struct PopulationMember {
  Config config;
  TrainOptions options;
};

/// The config keys an agent may set apart from the population's first agent: run.seed (first) and
/// the hyperparameters that need no shape change. A learned temperature (ent_coef "auto" or
/// "auto_<init>") and a fixed one do not mix.
const std::vector<std::string>& per_agent_keys();

/// The first key in which `other` may not differ from `first` within one population, as
/// "KEY=FIRST, now OTHER"; "" when they can train together.
std::string population_conflict(const Config& first, const Config& other);

/// The most iterations of one agent (or group of agents) a worker thread runs in a row before
/// it takes the one furthest behind (IterationScheduler's turn): about 64 updates.
int64_t population_turn(const SacConfig& sac);

/// How many agents of `config` fit the memory its device has available now (its replay,
/// networks, envs and evaluation envs, as one run estimates them): the most a population of
/// them can hold. At least 0.
int64_t population_capacity(const Config& config);

/// Trains every member to its run.total_timesteps: on a GPU (or with fewer agents than CPU
/// threads) one engine holds all the agents' networks and they train in lockstep; on a CPU
/// with at least as many agents as threads each agent has an engine of its own, and a worker
/// per thread takes turns of the agent furthest behind (IterationScheduler), its iterations
/// with its log points, evaluations and checkpoints. Each agent keeps its own envs, replay,
/// generators, logs, evaluations, policy selection and checkpoints, so that agent k's results
/// are the single run's with its config. Refuses members that conflict
/// (population_conflict) and a population whose memory does not fit the device, saying how many
/// agents would. On a resume every member continues from the newest checkpoint step they all have.
/// A stop request brings every member to the step of the furthest one (with one engine, the
/// step at which it came), checkpoints each, then throws StopRequested. With an engine per
/// agent, each waits at every checkpoint until all have written theirs, so whatever ends the
/// process, the agents' kept checkpoints share a step to resume from.
/// `engines` (tests and benchmarks): how many engines the agents split into, in order and as
/// evenly as they go; 0 chooses by device and threads as above.
std::vector<TrainResult> train_population(const std::vector<PopulationMember>& members,
                                          int64_t engines = 0);

}  // namespace vecsac
