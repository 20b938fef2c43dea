/// @brief `vecsac eval`.
#include "vecsac/cli/eval.h"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <memory>

#include "vecsac/config/load_config.h"
#include "vecsac/env/env_json_tensor.h"
#include "vecsac/env/vec_env_ops.h"
#include "vecsac/io/atomic_file.h"
#include "vecsac/io/json_file.h"
#include "vecsac/sac/checkpoint.h"
#include "vecsac/sac/evaluate.h"
#include "vecsac/sac/trainer.h"
#include "vecsac/util/device.h"
#include "vecsac/util/generator.h"

namespace vecsac {

Command add_eval_command(CLI::App& parent) {
  struct Options {
    std::string run, checkpoint, init, json, device = "cpu";
    int64_t episodes = 0;
    int64_t seed = 0;
    bool last_actor = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = parent.add_subcommand(
      "eval", "Evaluate a run's deterministic policy (squashed mean), each episode to its limit");
  app->add_option("--run", o->run, "Run directory (holds config.json and checkpoints/)")
      ->required()
      ->check(CLI::ExistingDirectory);
  app->add_option("--checkpoint", o->checkpoint, "Checkpoint file (default: the run's newest)")
      ->check(CLI::ExistingFile);
  auto* episodes = app->add_option("--episodes", o->episodes, "Episodes from seeded resets")
                       ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  app->add_option("--seed", o->seed, "Reset seed for --episodes")
      ->check(CLI::Range(int64_t{0}, INT64_MAX))
      ->capture_default_str()
      ->needs(episodes);
  auto* init = app->add_option("--init", o->init, "JSON {\"states\": [...]} starts, as for rollout")
                   ->check(CLI::ExistingFile);
  episodes->excludes(init);
  app->add_option("--json", o->json,
                  "Write {returns, initial_obs, mean, std} here (atomically); the point mass adds "
                  "optimal_returns and optimality_gap = mean(optimal - return) / mean|optimal|");
  app->add_option("--device", o->device, "auto | cpu | cuda | cuda:N")->capture_default_str();
  app->add_flag("--last-actor", o->last_actor,
                "Evaluate the actor as training left it, not the run's selected one "
                "(run.select_episodes > 0)");
  return Command{
      app, [o, episodes, init] {
        if (episodes->count() == 0 && init->count() == 0) {
          throw std::invalid_argument("give either --episodes N or --init INIT.json");
        }
        const std::filesystem::path run(o->run);
        // Evaluation runs on --device, whatever device the run trained on.
        const Config config = load_config((run / "config.json").string(), {},
                                          /*check_device=*/false);
        const c10::Device device = parse_device(o->device);
        std::vector<std::filesystem::path> candidates;
        if (!o->checkpoint.empty()) {
          candidates.push_back(o->checkpoint);
        } else {
          candidates = list_checkpoints(run);
          if (candidates.empty()) {
            throw std::runtime_error("no checkpoint in '" + (run / "checkpoints").string() + "'");
          }
        }
        EnvParams params = env_params_of(config, /*seed_purpose=*/0);
        params.seed = static_cast<uint64_t>(o->seed);
        Actor actor(env_obs_dim(params), env_act_dim(params), config.sac.pi_arch,
                    env_action_limit(params), make_generator(c10::Device(c10::kCPU), 0));
        actor->to(device);
        // Newest first; an unreadable one (e.g. truncated) falls back to the previous.
        int64_t selected_step = -1;
        const std::filesystem::path ckpt =
            load_newest_readable(candidates, [&](const std::filesystem::path& file) {
              selected_step = load_actor(
                  file, actor, device, o->last_actor ? ActorChoice::kLast : ActorChoice::kSelected);
            });
        at::Tensor states;
        int64_t n = o->episodes;
        if (!o->init.empty()) {
          states = states_from_json(read_json_file(o->init, "--init file"), params,
                                    "--init file '" + o->init + "'");
          n = states.size(0);
        }
        const EvalResult r = evaluate(actor, params, n, device, states);
        std::cout << "eval of " << ckpt.string();
        if (selected_step >= 0) std::cout << " (selected actor, from step " << selected_step << ")";
        std::cout << ": " << n << " episodes, mean " << r.mean << ", std " << r.std;
        if (!r.optimal_returns.empty()) {
          std::cout << ", optimum " << r.optimal_mean << ", optimality gap " << r.optimality_gap;
        }
        std::cout << std::endl;
        if (!o->json.empty()) write_file_atomic(o->json, r.to_json().dump(2) + "\n");
      }};
}

}  // namespace vecsac
