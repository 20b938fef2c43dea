/// @brief The SAC training loop.
///
/// Between log points the loop never synchronises with the device: no .item(),
/// no copy to the CPU, no branch on a tensor's value; every count it branches
/// on (steps, replay size and cursor) is host arithmetic. tools/check_hot_loop.sh
/// enforces this between the HOT LOOP markers.
#include "vecsac/sac/trainer.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>

#include "vecsac/env/env_json_tensor.h"
#include "vecsac/env/vec_env.h"
#include "vecsac/io/atomic_file.h"
#include "vecsac/io/dir_lock.h"
#include "vecsac/io/json_file.h"
#include "vecsac/replay/replay_buffer.h"
#include "vecsac/sac/checkpoint.h"
#include "vecsac/sac/learner.h"
#include "vecsac/sac/memory_estimate.h"
#include "vecsac/sac/train_iteration.h"
#include "vecsac/util/device.h"
#include "vecsac/util/generator.h"
#include "vecsac/util/seed_purpose.h"
#include "vecsac/util/stop_signal.h"
#include "vecsac/util/sync_debug.h"

namespace vecsac {
namespace {

struct EpisodeSums {
  double count = 0, return_sum = 0, length_sum = 0;
};

EpisodeSums read_episode_stats(VecEnv& env) {
  const EpisodeStats s = env.take_episode_stats();
  const at::Tensor v =
      at::stack({s.count.to(at::kDouble), s.return_sum, s.length_sum.to(at::kDouble)}).to(at::kCPU);
  auto a = v.accessor<double, 1>();
  return {a[0], a[1], a[2]};
}

nlohmann::json number_or_null(double x, bool present) {
  return present ? nlohmann::json(x) : nlohmann::json(nullptr);
}

}  // namespace

EnvParams env_params_of(const Config& config, uint64_t seed_purpose) {
  EnvParams p;
  p.id = parse_env_id(config.env.name);
  p.dim = config.env.dim;
  p.max_episode_steps = config.env.max_episode_steps;
  p.action_repeat = config.env.action_repeat;
  p.seed = derive_seed(config.run.seed, seed_purpose);
  return p;
}

namespace {

// Keeps metrics.jsonl (or evals.jsonl) consistent with a resumed run: drops lines logged
// after the checkpoint by the run that was interrupted, and lines that are not valid JSON (a
// torn last line from a killed run). Warns when what is kept ends before `expected_from`,
// the step from which the run must have logged a line before its checkpoint at `up_to_step`:
// a file cut short (or cut mid-line) lost log points that the resumed run will not rewrite.
void truncate_log(const std::filesystem::path& file, int64_t up_to_step, int64_t expected_from) {
  std::ifstream in(file);
  std::string line, kept;
  int64_t last_kept = -1, number = 0;
  std::vector<int64_t> invalid;
  while (std::getline(in, line)) {
    ++number;
    try {
      const int64_t step = parse_json_bounded(line).at("global_step").get<int64_t>();
      if (step <= up_to_step) {
        kept += line + "\n";
        last_kept = std::max(last_kept, step);
      }
    } catch (const std::exception&) {
      invalid.push_back(number);
    }
  }
  write_file_atomic(file, kept);
  const std::string name = file.filename().string();
  for (int64_t n : invalid) {
    if (n != number) {
      std::fprintf(stderr, "warning: %s line %lld is not a valid log line and was dropped\n",
                   name.c_str(), static_cast<long long>(n));
    }
  }
  if (expected_from >= 0 && last_kept < expected_from) {
    std::fprintf(stderr,
                 "warning: %s ends at global_step %lld, but the run logged up to at least step "
                 "%lld before its checkpoint at step %lld; the lines in between are lost (was "
                 "the file cut short?) and the resumed run does not rewrite them\n",
                 name.c_str(), static_cast<long long>(last_kept),
                 static_cast<long long>(expected_from), static_cast<long long>(up_to_step));
  }
}

// Temporary files of write_file_atomic (".NAME.tmp.PID") left by a writer that died
// mid-write. Only called with the directory's lock held, so no live writer owns one.
void remove_stale_temp_files(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 1 && name[0] == '.' && name.find(".tmp.") != std::string::npos) {
      std::filesystem::remove(e.path(), ec);
    }
  }
}

// What of an earlier run `dir` holds ("" if nothing): a fresh run must not replace it
// unasked.
std::string earlier_run_files(const std::filesystem::path& dir) {
  std::string found;
  for (const char* name : {"config.json", "metrics.jsonl", "eval.json", "evals.jsonl"}) {
    if (std::filesystem::exists(dir / name)) found += std::string(found.empty() ? "" : ", ") + name;
  }
  const size_t n = list_checkpoints(dir).size();
  if (n > 0) {
    found += (found.empty() ? "" : ", ") + std::to_string(n) + " checkpoint" + (n > 1 ? "s" : "");
  }
  return found;
}

// Keys a resume may change: the horizon (to train further), and keys that do not change
// the training trajectory: how it computes and what it logs, evaluates and saves. Each
// change but the horizon's is named on stderr; any other key is refused.
const std::vector<std::string> kResumableKeys = {
    "run.total_timesteps",     "run.threads",   "run.device",        "run.log_interval",
    "run.checkpoint_interval", "run.eval_freq", "run.eval_episodes", "run.eval_init",
    "run.select_episodes"};

void check_finite_parameters(const SacLearner& learner, int64_t global_step) {
  if (!at::isfinite(learner.log_alpha.detach()).all().item<bool>()) {
    throw std::runtime_error("non-finite log_alpha at global_step " + std::to_string(global_step) +
                             "; training stopped, the last good checkpoint is kept");
  }
  const std::pair<const char*, const torch::nn::Module*> modules[] = {
      {"actor", learner.actor.get()},
      {"critic", learner.critic.get()},
      {"critic_target", learner.critic_target.get()}};
  for (const auto& [name, module] : modules) {
    for (const auto& p : module->named_parameters()) {
      if (!at::isfinite(p.value()).all().item<bool>()) {
        throw std::runtime_error(std::string("non-finite parameter ") + name + "." + p.key() +
                                 " at global_step " + std::to_string(global_step) +
                                 "; training stopped, the last good checkpoint is kept");
      }
    }
  }
}

}  // namespace

TrainResult train(const Config& config, const TrainOptions& options) {
  const auto& sac = config.sac;
  const auto& run = config.run;
  const c10::Device device = parse_device(run.device);
  // Read before any work, so a bad file fails fast and names the key.
  const EnvParams eval_params = env_params_of(config, kEvalEnvSeed);
  at::Tensor eval_states;
  int64_t eval_episodes = run.eval_episodes;
  if (!run.eval_init.empty()) {
    eval_states = states_from_json(read_json_file(run.eval_init, "run.eval_init file"), eval_params,
                                   "run.eval_init file '" + run.eval_init + "'");
    eval_episodes = eval_states.size(0);
  }
  // Before anything is written or allocated: a config too large for the device fails here,
  // naming the keys to lower, not in the middle of a run with an allocator's message.
  const EnvParams train_params = env_params_of(config, kEnvSeed);
  const std::vector<MemoryItem> memory =
      estimate_memory(config, env_obs_dim(train_params), env_act_dim(train_params),
                      env_state_dim(train_params), eval_episodes);
  check_memory_fits(memory, available_memory(device), device.str());
  // Held until train() returns: a second writer fails here, before touching anything.
  const DirLock lock(options.out_dir, "vecsac train");
  remove_stale_temp_files(options.out_dir);
  remove_stale_temp_files(options.out_dir / "checkpoints");
  if (!options.resume) {
    const std::string earlier = earlier_run_files(options.out_dir);
    if (!earlier.empty() && !options.overwrite) {
      throw std::runtime_error("'" + options.out_dir.string() + "' holds a run (" + earlier +
                               "); continue it with --resume, replace it with --overwrite, or "
                               "use another --out");
    }
    // A fresh run owns its directory: checkpoints of an earlier run there would
    // otherwise outrank this run's (eval and --resume pick the highest step).
    for (const auto& old : list_checkpoints(options.out_dir)) std::filesystem::remove(old);
    for (const char* name : {"eval.json", "evals.jsonl"}) {
      std::filesystem::remove(options.out_dir / name);
    }
  }

  VecEnv env(train_params, config.env.num_envs, device);
  const int64_t n = env.num_envs(), obs_dim = env.obs_dim(), act_dim = env.act_dim();
  // Before a resume's restore, which keeps it: only the clocks come from the checkpoint.
  if (config.env.stagger_time_limits) env.stagger_time_limits();
  ReplayBuffer replay(sac.buffer_size, obs_dim, act_dim, device);
  SacLearner learner(sac, obs_dim, act_dim, env.action_limit(), device, run.seed);
  at::Generator replay_gen = make_generator(device, derive_seed(run.seed, kReplaySeed));
  at::Generator explore_gen = make_generator(device, derive_seed(run.seed, kExploreSeed));
  auto evaluate_policy = [&](const Actor& actor) {
    return evaluate(actor, eval_params, eval_episodes, device, eval_states);
  };
  std::optional<SelectedPolicy> selected;
  const EnvParams select_params = env_params_of(config, kSelectEnvSeed);
  if (run.select_episodes > 0) {
    selected.emplace(obs_dim, act_dim, sac.pi_arch, env.action_limit(), device,
                     run.select_episodes);
  }
  LoopCounters c{0, 0, run.log_interval};
  TrainingState state{
      learner, replay, env, replay_gen, explore_gen, c, selected ? &*selected : nullptr};

  const std::filesystem::path metrics_file = options.out_dir / "metrics.jsonl";
  if (options.resume) {
    const auto found = list_checkpoints(options.out_dir);
    if (found.empty()) {
      throw std::runtime_error("--resume: no checkpoint in '" +
                               (options.out_dir / "checkpoints").string() + "'");
    }
    // Anything but the horizon changed would label the old training with new settings.
    // The linear lr schedule's horizon is run.total_timesteps: extending a run
    // changes it (as in SB3), so such a resume is not a replay of a straight run.
    const std::filesystem::path config_file = options.out_dir / "config.json";
    if (std::filesystem::exists(config_file)) {
      const nlohmann::json before = resolved_config_file(config_file);
      const nlohmann::json now = config_to_json(config);
      const std::string diff = first_config_difference(before, now, kResumableKeys);
      if (!diff.empty()) {
        throw std::runtime_error("--resume: '" + options.out_dir.string() + "' was trained with " +
                                 diff +
                                 "; a resume may change only run.total_timesteps and the run "
                                 "keys that do not change training (threads, device, log, "
                                 "checkpoint and evaluation settings); start a new run with "
                                 "another --out");
      }
      for (size_t i = 1; i < kResumableKeys.size(); ++i) {
        std::vector<std::string> others = kResumableKeys;
        others.erase(others.begin() + static_cast<std::ptrdiff_t>(i));
        const std::string changed = first_config_difference(before, now, others);
        if (!changed.empty()) std::fprintf(stderr, "note: resuming with %s\n", changed.c_str());
      }
      const int64_t old_total = before["run"]["total_timesteps"].get<int64_t>();
      if (sac.learning_rate_linear && old_total != run.total_timesteps) {
        std::fprintf(stderr,
                     "warning: the linear learning-rate schedule now decays over %lld instead "
                     "of %lld transitions; the resumed run will differ from a straight one\n",
                     (long long)run.total_timesteps, (long long)old_total);
      }
    }
    bool loaded = false;
    for (const auto& path : found) {
      try {
        load_checkpoint(path, state, device);
        std::printf("resumed from %s at global_step %lld\n", path.string().c_str(),
                    (long long)c.global_step);
        loaded = true;
        // Newer files were unreadable: they must not outrank this run's next checkpoints.
        for (const auto& newer : found) {
          if (newer == path) break;
          std::filesystem::remove(newer);
        }
        break;
      } catch (const std::runtime_error& e) {
        // Only an unreadable file falls through; a readable one that does not
        // match the config stops here, since older ones would not match either.
        if (std::string(e.what()).find("does not match") != std::string::npos) throw;
        std::fprintf(stderr, "warning: skipping %s\n", e.what());
      }
    }
    if (!loaded)
      throw std::runtime_error("--resume: no readable checkpoint in " + options.out_dir.string());
    // The log and evaluation cadence the checkpointed run had (a resume may change both).
    int64_t log_every = run.log_interval, eval_every = run.eval_freq;
    if (std::filesystem::exists(options.out_dir / "config.json")) {
      const nlohmann::json before = resolved_config_file(options.out_dir / "config.json");
      log_every = before["run"]["log_interval"].get<int64_t>();
      eval_every = before["run"]["eval_freq"].get<int64_t>();
    }
    // The first iteration logs; after a log at step g, next_log is the next multiple of
    // the interval above g, so the last line before the checkpoint is at least this.
    truncate_log(metrics_file, c.global_step, std::max<int64_t>(c.next_log - log_every, 0));
    if (std::filesystem::exists(options.out_dir / "evals.jsonl")) {
      truncate_log(options.out_dir / "evals.jsonl", c.global_step,
                   eval_every > 0 && c.global_step >= eval_every
                       ? c.global_step / eval_every * eval_every
                       : -1);
    }
  }

  // Only now: a resume that failed to load (e.g. a changed buffer_size) keeps the
  // run's previous config.json usable.
  write_file_atomic(options.out_dir / "config.json", config_to_json(config).dump(2) + "\n");

  const double utd = static_cast<double>(sac.gradient_steps) / (sac.train_freq * n);
  if (run.threads > 0) at::set_num_threads(static_cast<int>(run.threads));
  if (!options.quiet) {
    std::printf(
        "training %s (dim %d) on %s (%d CPU threads): %lld envs, %lld transitions; %lld gradient "
        "steps of batch %lld "
        "every %lld vector steps = update-to-data ratio %.4g gradient steps per transition "
        "(%.4g sampled transitions per collected one)\n",
        config.env.name.c_str(), config.env.dim, device.str().c_str(), at::get_num_threads(),
        (long long)n, (long long)run.total_timesteps, (long long)sac.gradient_steps,
        (long long)sac.batch_size, (long long)sac.train_freq, utd, utd * sac.batch_size);
    std::printf("memory: about %s estimated, the largest part the %s (%s)\n",
                format_bytes(total_bytes(memory)).c_str(), memory.front().what.c_str(),
                format_bytes(memory.front().bytes).c_str());
    std::fflush(stdout);
  }

  std::ofstream metrics(metrics_file, options.resume ? std::ios::app : std::ios::trunc);
  const at::Tensor obs_before = at::empty_like(env.obs());
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const int64_t ckpt_every =
      run.checkpoint_interval > 0 ? run.checkpoint_interval : run.total_timesteps;
  int64_t next_ckpt = (c.global_step / ckpt_every + 1) * ckpt_every;
  // Periodic evaluations use their own envs and no learner randomness, so they
  // never change the training trajectory (resume stays exact).
  const int64_t eval_every = run.eval_freq > 0 ? run.eval_freq : INT64_MAX;
  int64_t next_eval = run.eval_freq > 0 ? (c.global_step / eval_every + 1) * eval_every : INT64_MAX;
  std::ofstream evals;
  if (run.eval_freq > 0) {
    evals.open(options.out_dir / "evals.jsonl", options.resume ? std::ios::app : std::ios::trunc);
  }
  double eval_seconds = 0;  // spent in periodic evaluations
  int64_t last_log_step = c.global_step;
  double last_log_time = 0;
  int64_t checkpointed_step = -1;
  auto checkpoint = [&] {
    check_finite_parameters(learner, c.global_step);
    save_checkpoint(checkpoint_path(options.out_dir, c.global_step), state);
    // Keep the two newest: the previous one stays until a newer one is complete.
    const auto all = list_checkpoints(options.out_dir);
    for (size_t i = 2; i < all.size(); ++i) std::filesystem::remove(all[i]);
    checkpointed_step = c.global_step;
    if (options.after_checkpoint) options.after_checkpoint(c.global_step);
  };

  while (c.global_step < run.total_timesteps) {
    {
      // HOT LOOP BEGIN: no host synchronisation until the log point (tools/check_hot_loop.sh)
      const SyncDebugScope sync_debug(options.sync_debug && device.is_cuda());
      train_iteration(state, config, obs_before);
    }
    // HOT LOOP END
    if (options.after_iteration) options.after_iteration(c.global_step);
    const bool last = c.global_step >= run.total_timesteps;
    if (c.global_step >= c.next_log || last) {
      // --- log point: the one place that reads device values -------------------
      if (c.global_step >= c.next_log) {
        c.next_log += run.log_interval * ((c.global_step - c.next_log) / run.log_interval + 1);
      }
      const EpisodeSums ep = read_episode_stats(env);
      const UpdateStats u = learner.take_stats();
      const double now = seconds();
      const double sps = (c.global_step - last_log_step) / std::max(now - last_log_time, 1e-9);
      last_log_step = c.global_step;
      last_log_time = now;
      const bool have_ep = ep.count > 0, have_u = u.updates > 0;
      const std::pair<const char*, double> checked[] = {
          {"losses/qf_loss", u.qf_loss},       {"losses/actor_loss", u.actor_loss},
          {"losses/alpha_loss", u.alpha_loss}, {"losses/alpha", u.alpha},
          {"charts/entropy", u.entropy},       {"charts/q_mean", u.q_mean}};
      for (const auto& [name, value] : checked) {
        if (have_u && !std::isfinite(value)) {
          throw std::runtime_error(std::string("non-finite ") + name + " = " +
                                   std::to_string(value) + " at global_step " +
                                   std::to_string(c.global_step) +
                                   "; training stopped, the last good checkpoint is kept");
        }
      }
      const double mean_return = ep.return_sum / std::max(ep.count, 1.0);
      nlohmann::json line = {{"global_step", c.global_step},
                             {"time_s", now},
                             {"charts/SPS", sps},
                             {"charts/episodic_return", number_or_null(mean_return, have_ep)},
                             {"charts/episodic_length",
                              number_or_null(ep.length_sum / std::max(ep.count, 1.0), have_ep)},
                             {"losses/qf_loss", number_or_null(u.qf_loss, have_u)},
                             {"losses/actor_loss", number_or_null(u.actor_loss, have_u)},
                             {"losses/alpha_loss", number_or_null(u.alpha_loss, have_u)},
                             {"losses/alpha", u.alpha},
                             {"charts/entropy", number_or_null(u.entropy, have_u)},
                             {"charts/q_mean", number_or_null(u.q_mean, have_u)}};
      metrics << line.dump() << "\n" << std::flush;
      if (!options.quiet) {
        const double eta =
            std::max<double>(0, run.total_timesteps - c.global_step) / std::max(sps, 1e-9);
        std::printf("step %lld/%lld | %.0f steps/s | return %s | alpha %.3g | ETA %.0fs\n",
                    (long long)c.global_step, (long long)run.total_timesteps, sps,
                    have_ep ? std::to_string(mean_return).c_str() : "n/a", u.alpha, eta);
        std::fflush(stdout);
      }
    }
    if (c.global_step >= next_eval) {
      next_eval += eval_every * ((c.global_step - next_eval) / eval_every + 1);
      // Times of the policy evaluated, not of the evaluation's end; train_time_s
      // also leaves out earlier evaluations, so time-to-quality comparisons do
      // not depend on how often each trainer evaluates.
      synchronize(device);  // queued training work belongs to training time, not eval's
      const double policy_time = seconds();
      const EvalResult e = evaluate_policy(learner.actor);
      nlohmann::json line = {{"global_step", c.global_step},
                             {"time_s", policy_time},
                             {"train_time_s", policy_time - eval_seconds},
                             {"eval/mean_return", e.mean},
                             {"eval/std_return", e.std},
                             {"eval/returns", e.returns}};
      if (!e.optimal_returns.empty()) line["eval/optimality_gap"] = e.optimality_gap;
      if (selected) {
        const EvalResult v = evaluate(learner.actor, select_params, run.select_episodes, device);
        selected->consider(learner.actor, v.mean, c.global_step);
        line["select/mean_return"] = v.mean;
      }
      evals << line.dump() << "\n" << std::flush;
      eval_seconds += seconds() - policy_time;
    }
    if (c.global_step >= next_ckpt || last) {
      next_ckpt += ckpt_every * ((c.global_step - next_ckpt) / ckpt_every + 1);
      checkpoint();
    }
    // A host flag set by the signal handler: no device sync to poll it every iteration.
    if (const int signal = pending_stop_signal(); signal != 0 && !last) {
      if (checkpointed_step != c.global_step) checkpoint();
      throw StopRequested(signal, c.global_step,
                          checkpoint_path(options.out_dir, c.global_step).string());
    }
  }

  TrainResult result;
  result.global_step = c.global_step;
  result.seconds = seconds();
  const bool use_selected = selected && !selected->empty();
  result.final_eval = evaluate_policy(use_selected ? selected->actor : learner.actor);
  nlohmann::json eval_doc = result.final_eval.to_json();
  if (use_selected) {
    result.selected_step = selected->step;
    eval_doc["selected_step"] = selected->step;
    eval_doc["select_mean_return"] = selected->score;
  }
  write_file_atomic(options.out_dir / "eval.json", eval_doc.dump(2) + "\n");
  return result;
}

}  // namespace vecsac
