/// @brief SacLearner: networks, targets, temperature, optimizers and one gradient step.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <array>
#include <memory>
#include <string>

#include "vecsac/config/config.h"
#include "vecsac/nn/fused_adam.h"
#include "vecsac/random/random_stream.h"
#include "vecsac/replay/replay_buffer.h"
#include "vecsac/sac/fused_update.h"
#include "vecsac/sac/networks.h"

namespace vecsac {

/// Means of the update diagnostics since the last take, read in one copy.
struct UpdateStats {
  int64_t updates = 0;
  double qf_loss = 0, actor_loss = 0, alpha_loss = 0, alpha = 0, entropy = 0, q_mean = 0;
};

/// The fused engine's fixed hyperparameters for `config`, as SacLearner builds its engine; a
/// population's engine takes the same.
SacConstants engine_constants(const SacConfig& config, int64_t act_dim, double action_limit);

/// How SacLearner::update computes a gradient step.
enum class UpdatePath {
  kFused,    ///< FusedSacUpdate: flat buffers, explicit backward, fused kernels (the default)
  kAutograd  ///< LibTorch modules, autograd and FusedAdam: the oracle the tests hold kFused to
};

class SacLearner {
 public:
  SacLearner(const SacConfig& config, int64_t obs_dim, int64_t act_dim, double action_limit,
             c10::Device device, uint64_t seed, UpdatePath path = UpdatePath::kFused);

  /// Agent `agent` of a population's engine: the same networks, initial weights,
  /// generators and hyperparameters as the single learner with this config and seed, held
  /// in the agent's slices of the shared engine's buffers. The population updates and acts
  /// for all its agents at once (sac/population.h); save, load, statistics, evaluation and
  /// selection go through the member as through a single learner, so agent k's checkpoint
  /// is a single run's.
  SacLearner(const SacConfig& config, int64_t obs_dim, int64_t act_dim, double action_limit,
             uint64_t seed, std::shared_ptr<FusedSacUpdate> population, int64_t agent);

  /// One gradient step on `batch`, in SB3's order: temperature, critics, actor,
  /// then the Polyak target update every target_update_interval steps.
  /// Diagnostics accumulate on the device; nothing is read back. Both paths draw the
  /// policy noise of pi(obs) and pi(next_obs) as one [2, B, act] normal draw of
  /// update_stream, so they take identical noise.
  void update(const Batch& batch);

  /// Sets the step size of all three optimizers, and the base rate of
  /// set_learning_rate_factor (config.learning_rate until then).
  void set_learning_rate(double lr);
  /// Step size = base rate x factor (SB3's linear schedule). Float math on the fused path, as
  /// a population computes it for every agent at once, so that agent k of a population and
  /// the single run take identical steps.
  void set_learning_rate_factor(double factor);
  /// The step size now (reads it from the device on the fused path: not for the hot loop).
  double learning_rate() const;

  /// A population member's share of one population update (which the population's engine
  /// ran for every agent): counts it as this learner's own gradient step. Returns whether
  /// the step updates the targets (every target_update_interval steps).
  bool count_population_update();
  /// The agent's index in its population's engine; 0 for a single learner.
  int64_t agent() const { return agent_; }

  /// Stochastic actions for acting (no autograd), the noise one draw of act_stream. On the fused
  /// path they are the engine's buffer (FusedSacUpdate::act), valid until the next act().
  at::Tensor act(const at::Tensor& obs);
  /// The deterministic policy (the squashed mean) for evaluations: on the fused path through
  /// the engine (FusedSacUpdate::act_deterministic, its buffer valid until the next call), as
  /// a population evaluates all its agents, so that agent k's evaluations are its single
  /// run's; on the autograd path the actor's own deterministic().
  at::Tensor act_deterministic(const at::Tensor& obs);

  /// Returns and clears the accumulated diagnostics (one device-to-host copy).
  UpdateStats take_stats();

  /// Networks, targets, log alpha, Adam states, the streams' draw counts, counters and the
  /// pending diagnostics: everything an exact resume needs. `counted_draws`: the archive is of
  /// checkpoint format 5 or later and must hold the draw counts (older ones start the
  /// streams afresh).
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive, bool counted_draws = true);

  /// Every optimizer state tensor (Adam moments, then step counts), for exact comparisons.
  std::vector<at::Tensor> optimizer_state() const;

  UpdatePath path() const { return path_; }

  /// The modules act, evaluate and checkpoint; on the fused path their parameters are
  /// views of the engine's flat buffers.
  Actor actor;
  TwinCritic critic, critic_target;
  /// 0-d. Autograd path: a leaf with grad when the temperature is learned; fused path: a
  /// view of the engine's scalar buffer.
  at::Tensor log_alpha;
  /// The fused path's engine, else null; a population member's is shared by every agent.
  std::shared_ptr<FusedSacUpdate> engine;
  /// The autograd path's optimizers (alpha_opt only with a learned temperature); null on
  /// the fused path.
  std::unique_ptr<FusedAdam> actor_opt, critic_opt, alpha_opt;
  /// Policy noise in gradient steps and when acting (seed purposes kUpdateSeed, kActSeed).
  RandomStream update_stream, act_stream;
  int64_t gradient_steps = 0;  ///< total, for target_update_interval

 private:
  void update_autograd(const Batch& batch);
  void init_modules(int64_t obs_dim, int64_t act_dim, double action_limit, c10::Device device,
                    uint64_t seed);
  void adopt_flat_parameters();
  // This agent's views of one of the engine's flat buffers, shaped as the modules' parameters.
  std::vector<at::Tensor> member_views(const FlatMlp& mlp, const at::Tensor& flat) const;
  at::Tensor scalar(SacScalar slot) const;
  void apply_learning_rate(double lr);  // the autograd path's optimizers

  SacConfig config_;
  UpdatePath path_;
  double target_entropy_;      // sac.target_entropy resolved for this action size
  double base_learning_rate_;  // the autograd path's; the engine keeps its own per agent
  int64_t agent_ = 0;          // the engine's agent this learner is
  at::Tensor scalars_;         // fused path: the agent's kNumSacScalars slots
  at::Tensor stats_sum_;       // [6] on the device
  int64_t stats_count_ = 0;
};

}  // namespace vecsac
