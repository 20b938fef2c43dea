/// @brief AgentGroup: the agents of a population that share one update engine, and their
/// training iteration, in which every op runs once for all of them.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "vecsac/config/config.h"
#include "vecsac/env/vec_env.h"
#include "vecsac/random/random_stream.h"
#include "vecsac/replay/replay_buffer.h"
#include "vecsac/sac/checkpoint.h"
#include "vecsac/sac/evaluate.h"
#include "vecsac/sac/fused_update.h"
#include "vecsac/sac/training_parts.h"

namespace vecsac {

/// The shared parts of agents that train in lockstep through one engine: the engine, their
/// replay rings (one storage) and their envs (one VecEnv of agent blocks). Each agent's
/// TrainingParts take their seat in them (seat(j)); bind() then hands the group the agents'
/// states, and iteration() is train_iteration for every agent at once.
class AgentGroup {
 public:
  /// `configs`: the agents' validated configs, agreeing in every key but the per-agent ones
  /// (population_conflict). Allocates the shared parts on `device`.
  AgentGroup(const std::vector<Config>& configs, c10::Device device);

  int64_t size() const { return static_cast<int64_t>(configs_.size()); }
  FusedSacUpdate& engine() { return *engine_; }
  /// Agent j's seat, for its TrainingParts.
  const PopulationSeat& seat(int64_t j) const { return seats_[j]; }

  /// The agents' states (agent j's built on seat(j), all at one step), whose streams the
  /// group draws in lockstep from now on.
  void bind(const std::vector<TrainingState*>& states);

  /// Agent j's train_iteration, for every j, with each op (acting or exploring, the env step,
  /// the replay insert, each replay draw and gradient step) once for the group, so that the
  /// op count does not grow with the agents. No host synchronisation.
  void iteration();

  /// The agents' policies evaluated at once (evaluate_agents through the engine's
  /// deterministic act; `init_states` shared by all): agent j's envs from agents[j], its
  /// result what its single run's periodic evaluation gives (on a GPU, to round-off).
  std::vector<EvalResult> evaluate(const std::vector<EnvParams>& agents, int64_t episodes,
                                   const at::Tensor& init_states = {});

 private:
  std::vector<Config> configs_;
  std::shared_ptr<FusedSacUpdate> engine_;
  Batch replay_rings_;            // the agents' replay buffers, one storage
  std::shared_ptr<VecEnv> envs_;  // the agents' envs, agent j's block j
  std::vector<PopulationSeat> seats_;
  std::vector<TrainingState*> states_;
  std::vector<ReplayBuffer*> replays_;               // agent j's buffer: ring j of replay_rings_
  LockstepStreams act_, update_, explore_, replay_;  // the agents' streams of each purpose
  at::Tensor obs_before_;                            // the envs' obs before a step, for the replay
  at::Tensor explore_actions_;                       // exploration actions, agent-major
  Batch batch_;                                      // [size * B, ...], agent-major
  // With a linear schedule: per agent 1 (scheduled) or 0, its complement, and the step-size
  // factors, unscheduled + factor * scheduled: exactly float(factor) or 1 (one term is 0), the
  // factor each single run multiplies by, in one op.
  at::Tensor scheduled_, unscheduled_, lr_factors_;
  float action_limit_ = 0;
  bool any_linear_lr_ = false;
};

}  // namespace vecsac
