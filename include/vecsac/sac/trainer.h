/// @brief The training loop: vectorized acting, device replay, sync-free updates, logging.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "vecsac/config/config.h"
#include "vecsac/sac/evaluate.h"

namespace vecsac {

struct TrainOptions {
  std::filesystem::path out_dir;  ///< run directory: config.json, metrics.jsonl, eval.json
  bool quiet = false;             ///< no progress lines on stdout
  bool resume = false;            ///< continue from the newest good checkpoint in out_dir
  bool overwrite = false;         ///< replace an earlier run in out_dir (else refused)
  bool sync_debug = false;        ///< CUDA: any host sync in the hot loop throws
  std::string label;              ///< prefixes progress lines (a population's agents)
  /// Test hook: called after each checkpoint is written, with its step. In a CPU population
  /// the agents' hooks run on worker threads, several at once.
  std::function<void(int64_t)> after_checkpoint;
  /// Test hook: called after each training iteration, with the global step it reached (on a
  /// worker thread in a CPU population, as above).
  std::function<void(int64_t)> after_iteration;
};

struct TrainResult {
  int64_t global_step = 0;
  double seconds = 0;
  EvalResult final_eval;       ///< of the selected actor when there is one
  int64_t selected_step = -1;  ///< global_step of the selected actor; -1: the last actor
};

/// Trains per `config` (validated by the caller) and writes the run directory, holding
/// its lock (DirLock) throughout. A stop request (StopSignals) ends training after the
/// current iteration with a checkpoint and throws StopRequested.
TrainResult train(const Config& config, const TrainOptions& options);

/// The env parameters a config describes; `seed_purpose` picks the reset
/// stream (training and evaluation envs must not share starts).
EnvParams env_params_of(const Config& config, uint64_t seed_purpose);

}  // namespace vecsac
