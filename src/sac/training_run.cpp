/// @brief TrainingRun: a run directory and training state around the iterations.
///
/// The iterations themselves never synchronise with the device; the log point, evaluations
/// and checkpoints here are the places that read device values.
#include "vecsac/sac/training_run.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>

#include "vecsac/env/env_json_tensor.h"
#include "vecsac/env/env_registry.h"
#include "vecsac/io/atomic_file.h"
#include "vecsac/io/json_file.h"
#include "vecsac/util/cpu_pool.h"
#include "vecsac/util/device.h"
#include "vecsac/util/format_bytes.h"
#include "vecsac/util/generator.h"
#include "vecsac/util/seed_purpose.h"

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

at::Tensor eval_init_states(const Config& config) {
  const std::string& file = config.run.eval_init;
  if (file.empty()) return {};
  return states_from_json(read_json_file(file, "run.eval_init file"),
                          env_params_of(config, kEvalEnvSeed), "run.eval_init file '" + file + "'");
}

int64_t eval_episode_count(const Config& config) {
  const at::Tensor starts = eval_init_states(config);
  return starts.defined() ? starts.size(0) : config.run.eval_episodes;
}

std::vector<MemoryItem> run_memory(const Config& config, int64_t eval_episodes) {
  const EnvParams p = env_params_of(config, kEnvSeed);
  return estimate_memory(config, env_obs_dim(p), env_act_dim(p), env_state_dim(p), eval_episodes);
}

TrainingRun::TrainingRun(const Config& config, const TrainOptions& options,
                         const PopulationSeat* seat, int64_t resume_at_most)
    : config_(config),
      options_(options),
      device_(seat != nullptr ? seat->engine->device() : parse_device(config.run.device)),
      eval_params_(env_params_of(config, kEvalEnvSeed)),
      select_params_(env_params_of(config, kSelectEnvSeed)),
      eval_episodes_(config.run.eval_episodes) {
  // Read before any work, so a bad file fails fast and names the key.
  eval_states_ = eval_init_states(config);
  if (eval_states_.defined()) eval_episodes_ = eval_states_.size(0);
  // Before anything is written or allocated: a config too large for the device fails here,
  // naming the keys to lower, not in the middle of a run with an allocator's message.
  memory_ = run_memory(config, eval_episodes_);
  if (seat == nullptr) check_memory_fits(memory_, available_memory(device_), device_.str());
  // Held for the run's life: a second writer fails here, before touching anything.
  lock_.emplace(options.out_dir, "vecsac train");
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

  parts_.emplace(config, device_, seat);
  state_.emplace(parts_->ref());
  if (options.resume) resume(resume_at_most);
  // Only now: a resume that failed to load (e.g. a changed buffer_size) keeps the
  // run's previous config.json usable.
  write_file_atomic(options.out_dir / "config.json", config_to_json(config).dump(2) + "\n");
  start();
}

void TrainingRun::resume(int64_t resume_at_most) {
  const auto& run = config_.run;
  const std::filesystem::path& dir = options_.out_dir;
  std::vector<std::filesystem::path> found = list_checkpoints(dir);
  if (found.empty()) {
    throw std::runtime_error("--resume: no checkpoint in '" + (dir / "checkpoints").string() + "'");
  }
  // Anything but the horizon changed would label the old training with new settings.
  // The linear lr schedule's horizon is run.total_timesteps: extending a run
  // changes it (as in SB3), so such a resume is not a replay of a straight run.
  const std::filesystem::path config_file = dir / "config.json";
  int64_t log_every = run.log_interval, eval_every = run.eval_freq;
  if (std::filesystem::exists(config_file)) {
    const nlohmann::json before = resolved_config_file(config_file);
    const nlohmann::json now = config_to_json(config_);
    const std::string diff = first_config_difference(before, now, kResumableKeys);
    if (!diff.empty()) {
      throw std::runtime_error("--resume: '" + dir.string() + "' was trained with " + diff +
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
    if (config_.sac.learning_rate_linear && old_total != run.total_timesteps) {
      std::fprintf(stderr,
                   "warning: the linear learning-rate schedule now decays over %lld instead "
                   "of %lld transitions; the resumed run will differ from a straight one\n",
                   (long long)run.total_timesteps, (long long)old_total);
    }
    // The log and evaluation cadence the checkpointed run had (a resume may change both).
    log_every = before["run"]["log_interval"].get<int64_t>();
    eval_every = before["run"]["eval_freq"].get<int64_t>();
  }
  std::vector<std::filesystem::path> candidates;
  for (const auto& path : found) {
    if (checkpoint_step(path) <= resume_at_most) candidates.push_back(path);
  }
  const std::string none = "--resume: no readable checkpoint in " + dir.string();
  if (candidates.empty()) {
    throw std::runtime_error(
        "--resume: no checkpoint at or below step " + std::to_string(resume_at_most) + " in " +
        dir.string() +
        ", the step its population resumes from (every agent continues from one "
        "step)");
  }
  try {
    const std::filesystem::path loaded = load_newest_readable(
        candidates,
        [&](const std::filesystem::path& file) { load_checkpoint(file, *state_, device_); });
    std::printf("resumed from %s at global_step %lld\n", loaded.string().c_str(),
                (long long)parts_->counters.global_step);
  } catch (const CheckpointMismatch&) {
    throw;
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(none + " (the oldest: " + e.what() + ")");
  }
  // Newer files were unreadable (or ahead of the population): they must not outrank this
  // run's next checkpoints.
  for (const auto& newer : found) {
    if (checkpoint_step(newer) > parts_->counters.global_step) std::filesystem::remove(newer);
  }
  const LoopCounters& c = parts_->counters;
  // The first iteration logs; after a log at step g, next_log is the next multiple of
  // the interval above g, so the last line before the checkpoint is at least this.
  truncate_log(dir / "metrics.jsonl", c.global_step, std::max<int64_t>(c.next_log - log_every, 0));
  if (std::filesystem::exists(dir / "evals.jsonl")) {
    truncate_log(dir / "evals.jsonl", c.global_step,
                 eval_every > 0 && c.global_step >= eval_every
                     ? c.global_step / eval_every * eval_every
                     : -1);
  }
}

void TrainingRun::start() {
  const auto& run = config_.run;
  // From the logs as the resume left them, before they grow again.
  tb_.emplace(options_.out_dir, options_.resume, parts_->counters.global_step);
  const auto mode = options_.resume ? std::ios::app : std::ios::trunc;
  metrics_.open(options_.out_dir / "metrics.jsonl", mode);
  if (run.eval_freq > 0) evals_.open(options_.out_dir / "evals.jsonl", mode);
  const int64_t step = parts_->counters.global_step;
  ckpt_every_ = run.checkpoint_interval > 0 ? run.checkpoint_interval : run.total_timesteps;
  next_ckpt_ = (step / ckpt_every_ + 1) * ckpt_every_;
  // Periodic evaluations use their own envs and no learner randomness, so they
  // never change the training trajectory (resume stays exact).
  eval_every_ = run.eval_freq > 0 ? run.eval_freq : INT64_MAX;
  next_eval_ = run.eval_freq > 0 ? (step / eval_every_ + 1) * eval_every_ : INT64_MAX;
  last_log_step_ = step;
  start_time_ = std::chrono::steady_clock::now();
}

void TrainingRun::print_header() const {
  if (options_.quiet) return;
  const auto& sac = config_.sac;
  const auto& run = config_.run;
  const int64_t n = parts_->env.num_envs();
  const double utd = static_cast<double>(sac.gradient_steps) / (sac.train_freq * n);
  std::printf(
      "training %s (dim %d) on %s (%d CPU threads: %s): %lld envs, %lld transitions; %lld gradient "
      "steps of batch %lld every %lld vector steps = update-to-data ratio %.4g gradient steps "
      "per transition (%.4g sampled transitions per collected one)\n",
      env_name(config_.env.id), config_.env.dim, device_.str().c_str(), cpu_threads(),
      cpu_threads_origin().c_str(), (long long)n, (long long)run.total_timesteps,
      (long long)sac.gradient_steps, (long long)sac.batch_size, (long long)sac.train_freq, utd,
      utd * sac.batch_size);
  std::printf("memory: about %s estimated, the largest part the %s (%s)\n",
              format_bytes(total_bytes(memory_)).c_str(), memory_.front().what.c_str(),
              format_bytes(memory_.front().bytes).c_str());
  std::fflush(stdout);
}

double TrainingRun::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time_).count();
}

void TrainingRun::checkpoint() {
  check_finite_parameters(parts_->learner, parts_->counters.global_step);
  save_checkpoint(checkpoint_path(options_.out_dir, parts_->counters.global_step), *state_);
  // Keep the two newest: the previous one stays until a newer one is complete.
  const auto all = list_checkpoints(options_.out_dir);
  for (size_t i = 2; i < all.size(); ++i) std::filesystem::remove(all[i]);
  checkpointed_step_ = parts_->counters.global_step;
  if (options_.after_checkpoint) options_.after_checkpoint(parts_->counters.global_step);
}

std::filesystem::path TrainingRun::checkpoint_now() {
  if (checkpointed_step_ != parts_->counters.global_step) checkpoint();
  return checkpoint_path(options_.out_dir, parts_->counters.global_step);
}

void TrainingRun::after_iteration() {
  log_if_due();
  evaluate_and_checkpoint_if_due();
}

void TrainingRun::log_if_due() {
  LoopCounters& c = parts_->counters;
  if (options_.after_iteration) options_.after_iteration(c.global_step);
  if (c.global_step >= c.next_log || done()) log_point();
}

void TrainingRun::evaluate_and_checkpoint_if_due() {
  LoopCounters& c = parts_->counters;
  if (c.global_step >= next_eval_) periodic_eval();
  if (c.global_step >= next_ckpt_ || done()) {
    next_ckpt_ += ckpt_every_ * ((c.global_step - next_ckpt_) / ckpt_every_ + 1);
    checkpoint();
  }
}

// The one place that reads the device's training statistics.
void TrainingRun::log_point() {
  const auto& run = config_.run;
  LoopCounters& c = parts_->counters;
  if (c.global_step >= c.next_log) {
    c.next_log += run.log_interval * ((c.global_step - c.next_log) / run.log_interval + 1);
  }
  const EpisodeSums ep = read_episode_stats(parts_->env);
  const UpdateStats u = parts_->learner.take_stats();
  const double now = seconds();
  const double sps = (c.global_step - last_log_step_) / std::max(now - last_log_time_, 1e-9);
  last_log_step_ = c.global_step;
  last_log_time_ = now;
  const bool have_ep = ep.count > 0, have_u = u.updates > 0;
  const std::pair<const char*, double> checked[] = {
      {"losses/qf_loss", u.qf_loss},       {"losses/actor_loss", u.actor_loss},
      {"losses/alpha_loss", u.alpha_loss}, {"losses/alpha", u.alpha},
      {"charts/entropy", u.entropy},       {"charts/q_mean", u.q_mean}};
  for (const auto& [name, value] : checked) {
    if (have_u && !std::isfinite(value)) {
      throw std::runtime_error(std::string("non-finite ") + name + " = " + std::to_string(value) +
                               " at global_step " + std::to_string(c.global_step) + " in " +
                               options_.out_dir.string() +
                               "; training stopped, the last good checkpoint is kept");
    }
  }
  const double mean_return = ep.return_sum / std::max(ep.count, 1.0);
  const nlohmann::json line = {
      {"global_step", c.global_step},
      {"time_s", now},
      {"charts/SPS", sps},
      {"charts/episodic_return", number_or_null(mean_return, have_ep)},
      {"charts/episodic_length", number_or_null(ep.length_sum / std::max(ep.count, 1.0), have_ep)},
      {"losses/qf_loss", number_or_null(u.qf_loss, have_u)},
      {"losses/actor_loss", number_or_null(u.actor_loss, have_u)},
      {"losses/alpha_loss", number_or_null(u.alpha_loss, have_u)},
      {"losses/alpha", u.alpha},
      {"charts/entropy", number_or_null(u.entropy, have_u)},
      {"charts/q_mean", number_or_null(u.q_mean, have_u)}};
  metrics_ << line.dump() << "\n" << std::flush;
  tb_->append(line);
  if (!options_.quiet) {
    const double eta =
        std::max<double>(0, run.total_timesteps - c.global_step) / std::max(sps, 1e-9);
    std::printf("%s%sstep %lld/%lld | %.0f steps/s | return %s | alpha %.3g | ETA %.0fs\n",
                options_.label.c_str(), options_.label.empty() ? "" : ": ",
                (long long)c.global_step, (long long)run.total_timesteps, sps,
                have_ep ? std::to_string(mean_return).c_str() : "n/a", u.alpha, eta);
    std::fflush(stdout);
  }
}

void TrainingRun::periodic_eval() {
  synchronize(device_);  // queued training work belongs to training time, not eval's
  const auto started = std::chrono::steady_clock::now();
  // Through the engine, as a population evaluates all its agents (evaluate_agents).
  const auto policy = [&](const at::Tensor& obs) { return parts_->learner.act_deterministic(obs); };
  const EvalResult e =
      evaluate_agents(policy, {eval_params_}, eval_episodes_, device_, eval_states_).front();
  std::optional<EvalResult> v;
  if (parts_->selected) {
    v = evaluate_agents(policy, {select_params_}, config_.run.select_episodes, device_).front();
  }
  record_eval(e, v ? &*v : nullptr, started);
}

void TrainingRun::record_eval(const EvalResult& e, const EvalResult* v,
                              std::chrono::steady_clock::time_point started) {
  const LoopCounters& c = parts_->counters;
  TORCH_CHECK(eval_due(), "TrainingRun::record_eval: no evaluation is due at step ", c.global_step);
  TORCH_CHECK((v != nullptr) == parts_->selected.has_value(),
              "TrainingRun::record_eval: a selection result is ",
              parts_->selected ? "needed (run.select_episodes > 0)" : "not wanted");
  next_eval_ += eval_every_ * ((c.global_step - next_eval_) / eval_every_ + 1);
  // Times of the policy evaluated, not of the evaluation's end; train_time_s
  // also leaves out earlier evaluations, so time-to-quality comparisons do
  // not depend on how often each trainer evaluates.
  const double policy_time = std::chrono::duration<double>(started - start_time_).count();
  nlohmann::json line = {{"global_step", c.global_step},
                         {"time_s", policy_time},
                         {"train_time_s", policy_time - eval_seconds_},
                         {"eval/mean_return", e.mean},
                         {"eval/std_return", e.std},
                         {"eval/returns", e.returns}};
  if (!e.optimal_returns.empty()) line["eval/optimality_gap"] = e.optimality_gap;
  if (v != nullptr) {
    parts_->selected->consider(parts_->learner.actor, v->mean, c.global_step);
    line["select/mean_return"] = v->mean;
  }
  evals_ << line.dump() << "\n" << std::flush;
  tb_->append(line);
  eval_seconds_ += seconds() - policy_time;
}

TrainResult TrainingRun::finish() {
  TrainResult result;
  result.global_step = parts_->counters.global_step;
  result.seconds = seconds();
  const bool use_selected = parts_->selected && !parts_->selected->empty();
  result.final_eval = evaluate(use_selected ? parts_->selected->actor : parts_->learner.actor,
                               eval_params_, eval_episodes_, device_, eval_states_);
  nlohmann::json eval_doc = result.final_eval.to_json();
  if (use_selected) {
    result.selected_step = parts_->selected->step;
    eval_doc["selected_step"] = parts_->selected->step;
    eval_doc["select_mean_return"] = parts_->selected->score;
  }
  write_file_atomic(options_.out_dir / "eval.json", eval_doc.dump(2) + "\n");
  return result;
}

}  // namespace vecsac
