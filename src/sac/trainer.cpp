/// @brief The SAC training loop: train_iteration() until the horizon, a TrainingRun around it.
///
/// Between log points the loop never synchronises with the device: no .item(),
/// no copy to the CPU, no branch on a tensor's value; every count it branches
/// on (steps, replay size and cursor) is host arithmetic. tools/check_hot_loop.sh
/// enforces this between the HOT LOOP markers.
#include "vecsac/sac/trainer.h"

#include <ATen/ATen.h>

#include "vecsac/sac/train_iteration.h"
#include "vecsac/sac/training_run.h"
#include "vecsac/util/cpu_pool.h"
#include "vecsac/util/generator.h"
#include "vecsac/util/seed_purpose.h"
#include "vecsac/util/stop_signal.h"
#include "vecsac/util/sync_debug.h"

namespace vecsac {
EnvParams env_params_of(const Config& config, uint64_t seed_purpose) {
  EnvParams p;
  p.id = config.env.id;
  p.dim = config.env.dim;
  p.max_episode_steps = config.env.max_episode_steps;
  p.action_repeat = config.env.action_repeat;
  p.seed = derive_seed(config.run.seed, seed_purpose);
  return p;
}

TrainResult train(const Config& config, const TrainOptions& options) {
  TrainingRun run(config, options);
  if (config.run.threads > 0) set_cpu_threads(static_cast<int>(config.run.threads), "run.threads");
  run.print_header();
  TrainingState& state = run.state();
  const at::Tensor obs_before = at::empty_like(state.env.obs());
  const bool sync_debug = options.sync_debug && state.env.obs().is_cuda();
  while (!run.done()) {
    {
      // HOT LOOP BEGIN: no host synchronisation until the log point (tools/check_hot_loop.sh)
      const SyncDebugScope sync_debug_scope(sync_debug);
      train_iteration(state, config, obs_before);
    }
    // HOT LOOP END
    run.after_iteration();
    // A host flag set by the signal handler: no device sync to poll it every iteration.
    if (const int signal = pending_stop_signal(); signal != 0 && !run.done()) {
      const std::filesystem::path file = run.checkpoint_now();
      throw StopRequested(signal, state.counters.global_step, file.string());
    }
  }
  return run.finish();
}

}  // namespace vecsac
