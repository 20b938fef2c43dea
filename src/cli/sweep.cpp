/// @brief `vecsac sweep`.
#include "vecsac/cli/sweep.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>

#include "vecsac/cli/train.h"
#include "vecsac/config/load_config.h"
#include "vecsac/io/atomic_file.h"
#include "vecsac/io/dir_lock.h"
#include "vecsac/io/json_file.h"
#include "vecsac/sac/checkpoint.h"
#include "vecsac/sac/population.h"
#include "vecsac/sac/trainer.h"
#include "vecsac/stats/aggregate.h"
#include "vecsac/util/device.h"
#include "vecsac/util/stop_signal.h"

namespace vecsac {
namespace {

constexpr size_t kMaxSeeds = 10000;  // more is a typo such as 0-100000, not a sweep
constexpr double kConfidence = 0.95;

[[noreturn]] void bad_seeds(const std::string& spec, const std::string& problem) {
  throw std::invalid_argument("--seeds '" + spec + "': " + problem +
                              "; expected seeds >= 0 as A-B, A,B,C or a mix such as 0-2,7");
}

int64_t parse_seed(const std::string& spec, std::string_view item, std::string_view text) {
  if (!text.empty() && text[0] == '-') {
    bad_seeds(spec, "seed " + std::string(text) + " is negative");
  }
  int64_t seed = 0;
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, seed);
  if (ec == std::errc::result_out_of_range) {
    bad_seeds(spec, "seed " + std::string(text) + " is above 2^63 - 1");
  }
  if (text.empty() || ec != std::errc() || stop != end) {
    bad_seeds(spec, "'" + std::string(item) + "' is not a seed or a range");
  }
  return seed;
}

// A run finished when its eval.json exists, because the sweep deletes that file
// before it trains a seed, and only if it trained with the config the sweep
// would use now: a raised run.total_timesteps, say, must continue the run.
bool finished(const std::filesystem::path& dir, const Config& config) {
  if (!std::filesystem::exists(dir / "eval.json")) return false;
  try {
    return resolved_config_file(dir / "config.json") == config_to_json(config);
  } catch (const std::exception&) {
    return false;  // no readable config: not a finished run of this sweep
  }
}

// The first key of `now` whose value differs in the config.json at `file`, as
// "KEY=OLD, now NEW"; "" when none does (run.total_timesteps is
// ignored when `any_total`).
std::string first_difference(const std::filesystem::path& file, const nlohmann::json& now,
                             bool any_total) {
  const std::vector<std::string> ignored =
      any_total ? std::vector<std::string>{"run.total_timesteps"} : std::vector<std::string>{};
  return first_config_difference(resolved_config_file(file), now, ignored);
}

// With --resume, a seed that already trained may only continue under the same
// config, or a raised run.total_timesteps: anything else would label the old
// policy with the new settings. Throws naming the first key that differs.
void check_resumable(const std::filesystem::path& dir, const Config& config) {
  if (!std::filesystem::exists(dir / "config.json")) return;
  const std::string diff = first_difference(dir / "config.json", config_to_json(config), true);
  if (!diff.empty()) {
    throw std::runtime_error("--resume: " + dir.string() + " was trained with " + diff +
                             "; only run.total_timesteps may change on resume (use a new --out)");
  }
}

// OUT/config.json speaks for every seed_<k> in OUT, so a sweep with other
// settings must not rewrite it: seeds are added to a sweep under its config.
void check_sweep_dir(const std::filesystem::path& out, const nlohmann::json& shared_doc,
                     bool resume) {
  if (!std::filesystem::exists(out / "config.json")) return;
  const std::string diff = first_difference(out / "config.json", shared_doc, resume);
  if (!diff.empty()) {
    throw std::runtime_error(out.string() + " holds a sweep with " + diff +
                             (resume ? "; only run.total_timesteps may change on resume (use a "
                                       "new --out)"
                                     : "; a sweep's seeds share one config (use a new --out, or "
                                       "--resume to change only run.total_timesteps)"));
  }
}

// The seed of a run directory named exactly as the sweep names them (seed_<k>), or -1.
int64_t seed_of_dir(const std::string& name) {
  const std::string_view prefix = "seed_";
  if (name.rfind(prefix, 0) != 0) return -1;
  int64_t seed = -1;
  const char* end = name.data() + name.size();
  const auto [ptr, ec] = std::from_chars(name.data() + prefix.size(), end, seed);
  if (ec != std::errc() || ptr != end || seed < 0) return -1;
  return name == "seed_" + std::to_string(seed) ? seed : -1;
}

std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.5g", x);
  return buf;
}

}  // namespace

std::vector<int64_t> parse_seed_list(const std::string& spec) {
  if (spec.empty()) bad_seeds(spec, "no seeds");
  std::vector<int64_t> seeds;
  std::set<int64_t> seen;
  auto add = [&](int64_t seed) {
    if (!seen.insert(seed).second) {
      bad_seeds(spec, "seed " + std::to_string(seed) + " appears twice");
    }
    if (seeds.size() == kMaxSeeds) {
      bad_seeds(spec, "more than " + std::to_string(kMaxSeeds) + " seeds");
    }
    seeds.push_back(seed);
  };
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = std::min(spec.find(',', start), spec.size());
    const std::string_view item = std::string_view(spec).substr(start, comma - start);
    if (item.empty()) bad_seeds(spec, "an empty item");
    const size_t dash = item.find('-', 1);  // a leading '-' is a sign, caught as negative
    if (dash == std::string_view::npos) {
      add(parse_seed(spec, item, item));
    } else {
      const int64_t a = parse_seed(spec, item, item.substr(0, dash));
      const int64_t b = parse_seed(spec, item, item.substr(dash + 1));
      if (a > b) {
        bad_seeds(spec, "range " + std::string(item) + " runs backwards (A-B needs A <= B)");
      }
      if (static_cast<uint64_t>(b - a) >= kMaxSeeds - seeds.size()) {
        bad_seeds(spec, "more than " + std::to_string(kMaxSeeds) + " seeds");
      }
      for (int64_t k = 0; k <= b - a; ++k) add(a + k);  // a + k never passes b: no overflow
    }
    start = comma + 1;
  }
  return seeds;
}

namespace {

struct SweepOptions {
  std::string config = VECSAC_DEFAULT_CONFIG;
  std::vector<std::string> overrides;
  std::string seeds, out, eval_init;
  bool resume = false, overwrite = false;
  int64_t bootstrap_reps = 2000;
  int64_t population_size = 0;  // 0: automatic
  std::vector<std::string> grid;
  uint64_t bootstrap_seed = 0;
  CLI::Option* config_opt = nullptr;
};

// The config every seed shares, from --config (with --resume, by default the
// sweep's own config.json, as train --resume reads the run's), --set and --eval-init.
Config shared_config(const SweepOptions& o, const std::vector<std::string>& grid_point = {}) {
  std::vector<std::string> overrides = o.overrides;
  for (const auto& assignment : overrides) {
    const std::string key = assignment.substr(0, assignment.find('='));
    if (key == "run.seed") {
      throw std::invalid_argument("--set " + assignment +
                                  ": each run's seed comes from --seeds; drop this --set");
    }
    if (key == "run.eval_init" && !o.eval_init.empty()) {
      throw std::invalid_argument("--set " + assignment +
                                  " and --eval-init both give the evaluation starts; keep one");
    }
  }
  // As a JSON string, so a file named like a number or `null` stays a path.
  if (!o.eval_init.empty()) {
    overrides.push_back("run.eval_init=" + nlohmann::json(o.eval_init).dump());
  }
  overrides.insert(overrides.end(), grid_point.begin(), grid_point.end());
  const std::filesystem::path sweep_config = std::filesystem::path(o.out) / "config.json";
  const bool reuse =
      o.resume && o.config_opt->count() == 0 && std::filesystem::exists(sweep_config);
  return load_config(reuse ? sweep_config.string() : o.config, overrides);
}

// One --grid KEY=V1,V2,... axis.
struct GridAxis {
  std::string key;
  std::vector<std::string> values;
};

std::vector<GridAxis> parse_grid(const SweepOptions& o) {
  std::vector<GridAxis> axes;
  for (const std::string& spec : o.grid) {
    const size_t eq = spec.find('=');
    const std::string key = spec.substr(0, eq);
    const auto& allowed = per_agent_keys();
    const bool per_agent = std::find(allowed.begin() + 1, allowed.end(), key) != allowed.end();
    auto bad = [&](const std::string& problem) {
      std::string keys;
      for (auto it = allowed.begin() + 1; it != allowed.end(); ++it) {
        keys += (keys.empty() ? "" : ", ") + *it;
      }
      throw std::invalid_argument("--grid '" + spec + "': " + problem +
                                  "; expected KEY=V1,V2,... with KEY one of " + keys +
                                  " (run.seed comes from --seeds)");
    };
    if (eq == std::string::npos) bad("no '='");
    if (!per_agent) bad("'" + key + "' is not a key a population's agents may differ in");
    for (const auto& axis : axes) {
      if (axis.key == key) bad("the key appears in two --grid options");
    }
    for (const auto& assignment : o.overrides) {
      if (assignment.substr(0, assignment.find('=')) == key) bad("--set also gives " + key);
    }
    GridAxis axis{key, {}};
    size_t start = eq + 1;
    while (start <= spec.size()) {
      const size_t comma = std::min(spec.find(',', start), spec.size());
      const std::string value = spec.substr(start, comma - start);
      if (value.empty()) bad("an empty value");
      if (std::find(axis.values.begin(), axis.values.end(), value) != axis.values.end()) {
        bad("value " + value + " appears twice");
      }
      axis.values.push_back(value);
      start = comma + 1;
    }
    axes.push_back(std::move(axis));
  }
  return axes;
}

// A point of the grid (or the one point of a sweep without --grid): its config and the
// directory of its seed_<k> runs.
struct SweepPoint {
  std::string name;  // "KEY=V,KEY=V" ("" without --grid)
  std::vector<std::string> assignments;
  Config config;
  std::filesystem::path dir;
};

std::vector<SweepPoint> sweep_points(const SweepOptions& o, const std::vector<GridAxis>& axes) {
  if (axes.empty()) return {SweepPoint{"", {}, shared_config(o), o.out}};
  std::vector<std::vector<std::string>> combos = {{}};
  for (const auto& axis : axes) {
    std::vector<std::vector<std::string>> next;
    for (const auto& combo : combos) {
      for (const auto& value : axis.values) {
        next.push_back(combo);
        next.back().push_back(axis.key + "=" + value);
      }
    }
    combos = std::move(next);
  }
  std::vector<SweepPoint> points;
  for (auto& combo : combos) {
    std::string name;
    for (const auto& a : combo) name += (name.empty() ? "" : ",") + a;
    Config config = shared_config(o, combo);
    points.push_back(
        {name, std::move(combo), std::move(config), std::filesystem::path(o.out) / name});
  }
  return points;
}

// Every seed, trained now, skipped or swept earlier, is scored from its eval.json alike.
nlohmann::json score_run(const std::filesystem::path& dir, int64_t seed) {
  const nlohmann::json eval = read_json_file(dir / "eval.json", "eval.json");
  nlohmann::json run = {
      {"seed", seed}, {"dir", dir.string()}, {"mean_return", eval.at("mean").get<double>()}};
  // null when the gap is undefined (every start at rest, so the optimum is 0).
  if (eval.contains("optimality_gap") && eval["optimality_gap"].is_number()) {
    run["optimality_gap"] = eval["optimality_gap"].get<double>();
  }
  return run;
}

std::filesystem::path seed_dir(const std::filesystem::path& point_dir, int64_t seed) {
  return point_dir / ("seed_" + std::to_string(seed));
}

// The run of one seed to train or continue, or none when --resume finds it finished.
std::optional<PopulationMember> plan_seed(const SweepOptions& o, const SweepPoint& point,
                                          int64_t seed, const std::string& label) {
  Config config = point.config;
  config.run.seed = static_cast<uint64_t>(seed);
  const std::filesystem::path dir = seed_dir(point.dir, seed);
  if (o.resume && finished(dir, config)) {
    std::cout << label << ": finished in " << dir.string() << ", skipped" << std::endl;
    return std::nullopt;
  }
  if (o.resume) check_resumable(dir, config);
  TrainOptions options;
  options.out_dir = dir;
  options.resume = o.resume && !list_checkpoints(dir).empty();
  // A seed that died before its first checkpoint starts over under --resume.
  options.overwrite = o.overwrite || (o.resume && !options.resume);
  if (options.resume || options.overwrite) std::filesystem::remove(dir / "eval.json");
  std::cout << label << ": " << (options.resume ? "resuming" : "training") << " in " << dir.string()
            << std::endl;
  return PopulationMember{std::move(config), std::move(options)};
}

// Trains the members as populations of those that can train together: in lockstep, so from
// the same step (a fresh start, or the same newest checkpoint), and agreeing in every key a
// population shares (a grid over a learned and a fixed temperature makes two).
void train_members(std::vector<PopulationMember> members) {
  std::vector<std::vector<PopulationMember>> groups;
  std::vector<int64_t> group_steps;
  for (auto& m : members) {
    const int64_t step =
        m.options.resume ? checkpoint_step(list_checkpoints(m.options.out_dir).front()) : -1;
    size_t g = 0;
    while (g < groups.size() &&
           (group_steps[g] != step ||
            !population_conflict(groups[g].front().config, m.config).empty())) {
      ++g;
    }
    if (g == groups.size()) {
      groups.emplace_back();
      group_steps.push_back(step);
    }
    groups[g].push_back(std::move(m));
  }
  for (auto& group : groups) {
    if (group.size() == 1) {
      train_and_report(group.front().config, group.front().options);
      continue;
    }
    for (auto& m : group) m.options.label = m.options.out_dir.string();
    const std::vector<TrainResult> results = train_population(group);
    for (size_t i = 0; i < results.size(); ++i) {
      std::printf("%s: trained %lld transitions in %.1f s; deterministic eval mean %g\n",
                  group[i].options.out_dir.string().c_str(),
                  static_cast<long long>(results[i].global_step), results[i].seconds,
                  results[i].final_eval.mean);
    }
    std::fflush(stdout);
  }
}

// --population-size 0: how many agents train at once. On a GPU all of them that fit its
// memory. On the CPU (docs/benchmarks.md, "Populations"), populations pay through the second
// thread: on 2 cores, 4 to 16 agents took 0.38-0.51x the time per agent of one; with 1
// thread a population only grows the working set (5-10 % slower for a Pendulum grid), so one
// at a time.
size_t population_size(const SweepOptions& o, const std::vector<SweepPoint>& points, size_t runs) {
  if (o.population_size > 0) return static_cast<size_t>(o.population_size);
  int64_t capacity = INT64_MAX;  // the point that needs the most memory decides
  for (const SweepPoint& p : points) capacity = std::min(capacity, population_capacity(p.config));
  const auto fit = static_cast<size_t>(std::max<int64_t>(capacity, 1));
  const Config& shared = points.front().config;
  if (parse_device(shared.run.device).is_cuda()) return std::min(runs, fit);
  return shared.run.threads == 1 ? size_t{1} : std::min({runs, size_t{8}, fit});
}

void print_summary(const nlohmann::json& doc, const std::filesystem::path& file) {
  std::printf("\n%-8s %12s %15s  %s\n", "seed", "mean_return", "optimality_gap", "run directory");
  for (const auto& r : doc["runs"]) {
    std::printf("%-8lld %12s %15s  %s\n", r["seed"].get<long long>(), num(r["mean_return"]).c_str(),
                r.contains("optimality_gap") ? num(r["optimality_gap"]).c_str() : "-",
                r["dir"].get<std::string>().c_str());
  }
  const auto& boot = doc["bootstrap"];
  std::printf("\nover %zu runs; 95%% percentile-bootstrap intervals, %lld resamples, seed %llu\n",
              doc["runs"].size(), boot["reps"].get<long long>(),
              boot["seed"].get<unsigned long long>());
  std::printf("%-15s %10s %-24s %10s %-24s %10s %10s %10s %10s\n", "score", "mean", "[95% CI]",
              "IQM", "[95% CI]", "median", "std", "min", "max");
  for (const char* score : {"mean_return", "optimality_gap"}) {
    if (!doc.contains(score)) continue;
    const auto& a = doc[score];
    auto interval = [](const nlohmann::json& ci) {
      return "[" + num(ci[0]) + ", " + num(ci[1]) + "]";
    };
    std::printf("%-15s %10s %-24s %10s %-24s %10s %10s %10s %10s\n", score, num(a["mean"]).c_str(),
                interval(a["mean_ci"]).c_str(), num(a["iqm"]).c_str(),
                interval(a["iqm_ci"]).c_str(), num(a["median"]).c_str(), num(a["std"]).c_str(),
                num(a["min"]).c_str(), num(a["max"]).c_str());
  }
  std::printf("aggregate: %s\n", file.string().c_str());
  std::fflush(stdout);
}

// The point's aggregate.json over `seeds` and the seeds swept into its directory earlier
// under the same config (after these); printed, and returned.
nlohmann::json aggregate_point(const SweepOptions& o, const SweepPoint& point,
                               const std::vector<int64_t>& seeds) {
  nlohmann::json runs = nlohmann::json::array();
  for (const int64_t seed : seeds) runs.push_back(score_run(seed_dir(point.dir, seed), seed));
  std::vector<int64_t> all_seeds = seeds, earlier;
  for (const auto& entry : std::filesystem::directory_iterator(point.dir)) {
    const int64_t seed = seed_of_dir(entry.path().filename().string());
    if (seed < 0 || std::find(seeds.begin(), seeds.end(), seed) != seeds.end()) continue;
    Config config = point.config;
    config.run.seed = static_cast<uint64_t>(seed);
    if (finished(entry.path(), config)) earlier.push_back(seed);
  }
  std::sort(earlier.begin(), earlier.end());
  for (const int64_t seed : earlier) {
    runs.push_back(score_run(seed_dir(point.dir, seed), seed));
    all_seeds.push_back(seed);
  }
  std::vector<double> returns, gaps;
  for (const auto& run : runs) {
    returns.push_back(run["mean_return"].get<double>());
    if (run.contains("optimality_gap")) gaps.push_back(run["optimality_gap"].get<double>());
  }
  if (!gaps.empty() && gaps.size() != returns.size()) {
    throw std::runtime_error("only some runs in '" + point.dir.string() +
                             "' report an optimality gap; a sweep aggregates one env");
  }
  const stats::BootstrapOptions boot{o.bootstrap_reps, o.bootstrap_seed, kConfidence};
  nlohmann::json doc = {{"seeds", all_seeds},
                        {"runs", runs},
                        {"mean_return", stats::aggregate(returns, boot).to_json()}};
  if (!gaps.empty()) doc["optimality_gap"] = stats::aggregate(gaps, boot).to_json();
  doc["bootstrap"] = {{"reps", boot.reps}, {"seed", boot.seed}, {"confidence", kConfidence}};
  write_file_atomic(point.dir / "aggregate.json", doc.dump(2) + "\n");
  if (!point.name.empty()) std::printf("\n== %s", point.name.c_str());
  print_summary(doc, point.dir / "aggregate.json");
  return doc;
}

// OUT/grid.json names a grid sweep's axes: a sweep into OUT must have the same --grid
// (none for a plain sweep), or its runs and aggregates would mix with the other kind's.
void check_grid_dir(const std::filesystem::path& out, const std::vector<GridAxis>& axes) {
  nlohmann::json want = nlohmann::json::array();
  for (const auto& axis : axes) want.push_back({{"key", axis.key}, {"values", axis.values}});
  const bool grid_dir = std::filesystem::exists(out / "grid.json");
  if (grid_dir) {
    const nlohmann::json have = read_json_file(out / "grid.json", "grid.json").at("axes");
    if (have != want) {
      throw std::invalid_argument(
          out.string() + " holds a grid sweep over " + have.dump() +
          (axes.empty() ? "; give the same --grid options" : ", not " + want.dump()) +
          " (or use a new --out)");
    }
  } else if (!axes.empty() && std::filesystem::exists(out / "aggregate.json")) {
    throw std::invalid_argument(out.string() +
                                " holds a sweep without --grid; a grid needs a new --out");
  }
  if (!axes.empty() && !grid_dir) {
    // Written now, so that a sweep stopped before its first aggregate still names its grid.
    const nlohmann::json doc = {{"axes", want}, {"points", nlohmann::json::array()}};
    write_file_atomic(out / "grid.json", doc.dump(2) + "\n");
  }
}

// A point's config.json speaks for its seed_<k> runs (the sweep's, without --grid).
void write_point_config(const SweepPoint& point, bool resume) {
  nlohmann::json doc = config_to_json(point.config);
  doc["run"].erase("seed");  // each seed_<k>/config.json holds its own
  check_sweep_dir(point.dir, doc, resume);
  std::filesystem::create_directories(point.dir);
  write_file_atomic(point.dir / "config.json", doc.dump(2) + "\n");
}

void run_sweep(const SweepOptions& o) {
  const std::vector<int64_t> seeds = parse_seed_list(o.seeds);
  // Once, before any training: a bad key or grid value fails here, not after the first seed.
  const std::vector<GridAxis> axes = parse_grid(o);
  const std::vector<SweepPoint> points = sweep_points(o, axes);
  if (points.size() * seeds.size() > kMaxSeeds) {
    throw std::invalid_argument("--grid and --seeds make " +
                                std::to_string(points.size() * seeds.size()) + " runs; at most " +
                                std::to_string(kMaxSeeds) + " in one sweep");
  }
  const std::filesystem::path out(o.out);
  const DirLock lock(out, "vecsac sweep");  // each seed_<k> is locked by its own train()
  check_grid_dir(out, axes);
  if (!axes.empty()) {
    // OUT/config.json: the config every point starts from (its --grid keys then set).
    write_point_config(SweepPoint{"", {}, shared_config(o), out}, o.resume);
  }
  for (const auto& point : points) write_point_config(point, o.resume);

  const size_t total = points.size() * seeds.size();
  const size_t k = population_size(o, points, total);
  if (k > 1) std::cout << "populations of up to " << k << " agents" << std::endl;
  for (size_t begin = 0; begin < total; begin += k) {
    std::vector<PopulationMember> members;
    for (size_t i = begin; i < std::min(begin + k, total); ++i) {
      const SweepPoint& point = points[i / seeds.size()];
      const int64_t seed = seeds[i % seeds.size()];
      const std::string label = (point.name.empty() ? "" : point.name + " ") + "seed " +
                                std::to_string(seed) + " (" + std::to_string(i + 1) + "/" +
                                std::to_string(total) + ")";
      if (auto m = plan_seed(o, point, seed, label)) members.push_back(std::move(*m));
    }
    if (!members.empty()) train_members(std::move(members));
  }
  nlohmann::json grid_points = nlohmann::json::array();
  for (const auto& point : points) {
    const nlohmann::json doc = aggregate_point(o, point, seeds);
    nlohmann::json entry = {{"name", point.name},
                            {"dir", point.dir.string()},
                            {"set", point.assignments},
                            {"mean_return", doc["mean_return"]}};
    if (doc.contains("optimality_gap")) entry["optimality_gap"] = doc["optimality_gap"];
    grid_points.push_back(entry);
  }
  if (axes.empty()) return;
  nlohmann::json axes_doc = nlohmann::json::array();
  for (const auto& axis : axes) axes_doc.push_back({{"key", axis.key}, {"values", axis.values}});
  const nlohmann::json grid = {{"axes", axes_doc}, {"seeds", seeds}, {"points", grid_points}};
  write_file_atomic(out / "grid.json", grid.dump(2) + "\n");
  std::printf("\n%-40s %10s %-24s %10s\n", "grid point", "mean", "[95% CI]", "IQM");
  for (const auto& p : grid_points) {
    const auto& a = p["mean_return"];
    std::printf("%-40s %10s %-24s %10s\n", p["name"].get<std::string>().c_str(),
                num(a["mean"]).c_str(),
                ("[" + num(a["mean_ci"][0]) + ", " + num(a["mean_ci"][1]) + "]").c_str(),
                num(a["iqm"]).c_str());
  }
  std::printf("grid: %s\n", (out / "grid.json").string().c_str());
  std::fflush(stdout);
}

}  // namespace

Command add_sweep_command(CLI::App& parent) {
  auto o = std::make_shared<SweepOptions>();
  CLI::App* app = parent.add_subcommand(
      "sweep",
      "Train one run per seed, then aggregate their final evals (mean, IQM, bootstrap 95% CIs)");
  o->config_opt = app->add_option("--config", o->config,
                                  "JSON config shared by every seed; with --resume the default is "
                                  "the sweep directory's config.json")
                      ->capture_default_str()
                      ->check(CLI::ExistingFile);
  app->add_option("--set", o->overrides,
                  "Override one key for every seed, typed: --set sac.tau=0.01 (repeatable; "
                  "run.seed comes from --seeds)")
      ->take_all();
  app->add_option("--seeds", o->seeds, "Seeds to run: A-B, A,B,C or a mix such as 0-2,7")
      ->required();
  app->add_option("--out", o->out,
                  "Sweep directory: seed_<k>/ run directories, config.json, aggregate.json")
      ->required();
  app->add_option("--eval-init", o->eval_init,
                  "INIT.json starts for every seed's evaluations (sets run.eval_init), e.g. "
                  "configs/eval/pointmass_notebook_starts.json")
      ->check(CLI::ExistingFile);
  app->add_option("--population-size", o->population_size,
                  "Seeds trained at once as one population (on a GPU one engine batches their "
                  "networks; on the CPU the threads take turns of them; each seed's run and files "
                  "are as if trained alone). 0: all seeds on a GPU; "
                  "on the CPU 8 at a time, or 1 with run.threads=1")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, static_cast<int64_t>(kMaxSeeds)));
  app->add_option("--grid", o->grid,
                  "Train every seed at each value: --grid sac.learning_rate=1e-3,3e-4 (repeatable: "
                  "the product of the axes). Keys that change no shape only; each point is a "
                  "sweep of its own in OUT/KEY=V,.../ and OUT/grid.json compares them")
      ->take_all();
  app->add_flag("--resume", o->resume,
                "Skip seeds whose run finished with this config; continue the others from their "
                "newest checkpoint, as train --resume");
  app->add_flag("--overwrite", o->overwrite,
                "Retrain seeds whose directories hold an earlier run, replacing it");
  app->add_option("--bootstrap-reps", o->bootstrap_reps, "Bootstrap resamples per interval")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{10'000'000}));
  app->add_option("--bootstrap-seed", o->bootstrap_seed, "Seed of the bootstrap resampling")
      ->capture_default_str();
  return Command{app, [o] {
                   if (o->resume && o->overwrite) {
                     throw std::invalid_argument("--resume and --overwrite exclude each other");
                   }
                   const StopSignals stop_signals;
                   try {
                     run_sweep(*o);
                   } catch (StopRequested& e) {
                     e.resume = "vecsac sweep --resume --out " + o->out + " --seeds " + o->seeds;
                     for (const auto& g : o->grid) e.resume += " --grid " + g;
                     if (o->population_size > 0) {
                       e.resume += " --population-size " + std::to_string(o->population_size);
                     }
                     throw;
                   }
                 }};
}

}  // namespace vecsac
