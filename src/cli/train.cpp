/// @brief `vecsac train`.
#include "vecsac/cli/train.h"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <memory>

#include "vecsac/config/load_config.h"
#include "vecsac/env/env_registry.h"
#include "vecsac/sac/trainer.h"
#include "vecsac/util/device.h"
#include "vecsac/util/stop_signal.h"

namespace vecsac {

Command add_train_command(CLI::App& parent) {
  struct Options {
    std::string config = VECSAC_DEFAULT_CONFIG;
    std::vector<std::string> overrides;
    std::string out;
    bool resume = false, overwrite = false, sync_debug = false;
    CLI::Option* config_opt = nullptr;
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = parent.add_subcommand("train", "Train SAC and write a run directory");
  o->config_opt = app->add_option("--config", o->config,
                                  "JSON config (sections env, sac, run); with --resume the "
                                  "default is the run directory's config.json")
                      ->capture_default_str()
                      ->check(CLI::ExistingFile);
  app->add_option("--set", o->overrides, "Override one key, typed: --set sac.tau=0.01 (repeatable)")
      ->take_all();
  app->add_option("--out", o->out, "Run directory (default: runs/<env>-seed<seed>)");
  app->add_flag("--resume", o->resume,
                "Continue the run in --out from its newest good checkpoint (raise "
                "run.total_timesteps with --set to train further)");
  app->add_flag("--overwrite", o->overwrite,
                "Replace the run already in --out (without this, train refuses to)");
  app->add_flag("--sync-debug", o->sync_debug,
                "CUDA: make any host synchronisation inside the training loop an error");
  return Command{
      app, [o] {
        if (o->resume && o->overwrite) {
          throw std::invalid_argument(
              "--resume and --overwrite exclude each other: continue the run, or replace it");
        }
        if (o->resume && o->out.empty()) {
          throw std::invalid_argument("--resume needs --out RUN_DIR, the run to continue");
        }
        std::string config_file = o->config;
        if (o->resume && o->config_opt->count() == 0) {
          config_file = (std::filesystem::path(o->out) / "config.json").string();
          if (!std::filesystem::exists(config_file)) {
            throw std::invalid_argument("--resume: '" + o->out +
                                        "' is not a run directory (no config.json)");
          }
        }
        const Config config = load_config(config_file, o->overrides);
        TrainOptions options;
        options.resume = o->resume;
        options.overwrite = o->overwrite;
        options.sync_debug = o->sync_debug;
        options.out_dir = o->out.empty() ? "runs/" + std::string(env_name(config.env.id)) +
                                               "-seed" + std::to_string(config.run.seed)
                                         : o->out;
        const StopSignals stop_signals;
        try {
          train_and_report(config, options);
        } catch (StopRequested& e) {
          e.resume = "vecsac train --resume --out " + options.out_dir.string();
          throw;
        }
      }};
}

TrainResult train_and_report(const Config& config, const TrainOptions& options) {
  const TrainResult r = train(config, options);
  std::cout << "trained " << r.global_step << " transitions in " << r.seconds
            << " s; deterministic eval";
  if (r.selected_step >= 0) std::cout << " (selected actor, from step " << r.selected_step << ")";
  std::cout << " over " << r.final_eval.returns.size() << " episodes: mean " << r.final_eval.mean
            << ", std " << r.final_eval.std << "; run directory " << options.out_dir.string()
            << std::endl;
  return r;
}

}  // namespace vecsac
