/// @brief One run's life around its training iterations: the run directory (lock, fresh or
/// resumed start, config.json, logs, live TensorBoard events), the training state it owns, the log
/// points, evaluations, policy selection, checkpoints and the final evaluation. train() drives one
/// TrainingRun; a population drives one per agent, in lockstep.
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include "vecsac/config/config.h"
#include "vecsac/env/vec_env.h"
#include "vecsac/io/dir_lock.h"
#include "vecsac/io/run_tensorboard.h"
#include "vecsac/replay/replay_buffer.h"
#include "vecsac/sac/checkpoint.h"
#include "vecsac/sac/learner.h"
#include "vecsac/sac/memory_estimate.h"
#include "vecsac/sac/policy_selection.h"
#include "vecsac/sac/trainer.h"
#include "vecsac/sac/training_parts.h"

namespace vecsac {

/// The evaluation starts of run.eval_init ([episodes, state_dim]), read and checked against
/// the env; an undefined tensor when the config has none (random starts).
at::Tensor eval_init_states(const Config& config);

/// The evaluation episodes of one evaluation: run.eval_init's starts when the config has
/// them (read and checked), else run.eval_episodes.
int64_t eval_episode_count(const Config& config);

/// The memory one run of `config` needs with `eval_episodes` evaluation envs; largest part
/// first.
std::vector<MemoryItem> run_memory(const Config& config, int64_t eval_episodes);

class TrainingRun {
 public:
  /// Checks the memory (unless `seat`: the population checks all of it), locks
  /// options.out_dir, starts fresh (refusing to replace a run unless options.overwrite) or
  /// resumes from the newest readable checkpoint at or below `resume_at_most`, and writes
  /// config.json. `config` is validated by the caller.
  TrainingRun(const Config& config, const TrainOptions& options,
              const PopulationSeat* seat = nullptr, int64_t resume_at_most = INT64_MAX);
  TrainingRun(const TrainingRun&) = delete;
  TrainingRun& operator=(const TrainingRun&) = delete;

  TrainingState& state() { return *state_; }
  const Config& config() const { return config_; }
  bool done() const { return parts_->counters.global_step >= config_.run.total_timesteps; }

  /// After each iteration: the log point, evaluation and checkpoint that are due
  /// (log_if_due, then evaluate_and_checkpoint_if_due).
  void after_iteration();
  /// Its first half: options.after_iteration, then the log point if due.
  void log_if_due();
  /// Its second half: the evaluation (unless record_eval gave it) and checkpoint if due. A
  /// population runs its agents' first halves, its batched evaluation, then the second.
  void evaluate_and_checkpoint_if_due();

  /// What a periodic evaluation runs (evaluate_agents): the eval envs (their starts, or
  /// resets from eval_params.seed) and, with run.select_episodes, the selection envs.
  struct EvalPlan {
    EnvParams eval_params, select_params;
    at::Tensor init_states;  ///< run.eval_init's starts; undefined without
    int64_t episodes = 0, select_episodes = 0;
  };
  EvalPlan eval_plan() const {
    return {eval_params_, select_params_, eval_states_, eval_episodes_,
            config_.run.select_episodes};
  }
  /// Whether after_iteration would evaluate now.
  bool eval_due() const { return parts_->counters.global_step >= next_eval_; }
  /// The due periodic evaluation from results computed for several runs at once (a
  /// population's, with each run's eval_plan): logs them and offers the policy to selection as
  /// after_iteration's own evaluation would, so after_iteration evaluates no more at this
  /// step. `select`: the selection envs' result, with run.select_episodes. `started`: when the
  /// evaluation began (after the device finished training's queued work).
  void record_eval(const EvalResult& eval, const EvalResult* select,
                   std::chrono::steady_clock::time_point started);
  /// The step of the newest checkpoint this process wrote; -1 before the first.
  int64_t last_checkpoint_step() const { return checkpointed_step_; }
  /// Writes a checkpoint of this step unless there is one; returns its path (a stop).
  std::filesystem::path checkpoint_now();
  /// The final evaluation (of the selected actor when there is one), written to eval.json.
  TrainResult finish();
  /// Prints the run's header (sizes, update-to-data ratio, memory) unless quiet.
  void print_header() const;

 private:
  void start();
  void resume(int64_t resume_at_most);
  void log_point();
  void periodic_eval();
  void checkpoint();
  double seconds() const;

  Config config_;
  TrainOptions options_;
  c10::Device device_;
  EnvParams eval_params_, select_params_;
  at::Tensor eval_states_;
  int64_t eval_episodes_;
  std::vector<MemoryItem> memory_;
  std::optional<DirLock> lock_;

  std::optional<TrainingParts> parts_;  // the training state, owned here
  std::optional<TrainingState> state_;  // refers to parts_

  std::ofstream metrics_, evals_;
  std::optional<TensorBoardLog> tb_;  // RUN_DIR/tb/, live
  std::chrono::steady_clock::time_point start_time_;
  int64_t ckpt_every_ = 0, next_ckpt_ = 0, eval_every_ = 0, next_eval_ = 0;
  double eval_seconds_ = 0;  // spent in periodic evaluations
  int64_t last_log_step_ = 0;
  double last_log_time_ = 0;
  int64_t checkpointed_step_ = -1;
};

}  // namespace vecsac
