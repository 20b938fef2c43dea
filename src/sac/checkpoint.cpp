/// @brief Checkpoint save/load.
#include "vecsac/sac/checkpoint.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "vecsac/io/atomic_file.h"

namespace vecsac {
namespace {

// Written last: a file that parses but lacks it is not a complete checkpoint.
// 2: FusedAdam's moments and step counts replaced torch::optim::Adam's state.
// The actor's layout is the same in both, so eval reads either.
constexpr int64_t kFormatVersion = 2;
constexpr int64_t kOldestActorFormat = 1;

void write_int(torch::serialize::OutputArchive& a, const std::string& k, int64_t v) {
  a.write(k, c10::IValue(v));
}
int64_t read_int(torch::serialize::InputArchive& a, const std::string& k) {
  c10::IValue v;
  a.read(k, v);
  return v.toInt();
}
at::Tensor read_tensor(torch::serialize::InputArchive& a, const std::string& k) {
  at::Tensor t;
  a.read(k, t);
  return t;
}

const char* kEnvKeys[] = {"state",
                          "elapsed",
                          "episode",
                          "episode_return",
                          "finished_count",
                          "finished_return_sum",
                          "finished_length_sum"};

std::vector<at::Tensor*> env_fields(VecEnvSnapshot& s) {
  return {&s.state,
          &s.elapsed,
          &s.episode,
          &s.episode_return,
          &s.finished_count,
          &s.finished_return_sum,
          &s.finished_length_sum};
}

const char* kReplayKeys[] = {"obs", "act", "reward", "next_obs", "terminated"};
std::vector<at::Tensor*> replay_fields(Batch& b) {
  return {&b.obs, &b.act, &b.reward, &b.next_obs, &b.terminated};
}

// Opens a checkpoint whose format_version is in [oldest, kFormatVersion].
torch::serialize::InputArchive open(const std::filesystem::path& path, c10::Device device,
                                    int64_t oldest = kFormatVersion) {
  torch::serialize::InputArchive a;
  try {
    a.load_from(path.string(), device);
    const int64_t version = read_int(a, "format_version");
    if (version < oldest || version > kFormatVersion) {
      throw std::runtime_error(
          "format_version " + std::to_string(version) + ", this build resumes only " +
          std::to_string(kFormatVersion) +
          (version == 1 ? " (version 1 predates FusedAdam's optimizer state; vecsac eval still "
                          "reads its actor)"
                        : ""));
    }
  } catch (const c10::Error& e) {
    throw std::runtime_error("checkpoint '" + path.string() +
                             "' is truncated or corrupt: " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw std::runtime_error("checkpoint '" + path.string() + "' is not usable: " + e.what());
  }
  return a;
}

}  // namespace

std::filesystem::path checkpoint_path(const std::filesystem::path& run_dir, int64_t global_step) {
  return run_dir / "checkpoints" / ("step_" + std::to_string(global_step) + ".pt");
}

void save_checkpoint(const std::filesystem::path& path, const TrainingState& s) {
  torch::serialize::OutputArchive root;
  {
    torch::serialize::OutputArchive learner;
    s.learner.save(learner);
    root.write("learner", learner);
  }
  {
    torch::serialize::OutputArchive replay;
    Batch storage = s.replay.storage();
    auto fields = replay_fields(storage);
    for (size_t i = 0; i < fields.size(); ++i) replay.write(kReplayKeys[i], *fields[i]);
    write_int(replay, "size", s.replay.size());
    write_int(replay, "cursor", s.replay.cursor());
    root.write("replay", replay);
  }
  {
    torch::serialize::OutputArchive env;
    VecEnvSnapshot snap = s.env.snapshot();
    auto fields = env_fields(snap);
    for (size_t i = 0; i < fields.size(); ++i) env.write(kEnvKeys[i], *fields[i]);
    root.write("env", env);
  }
  root.write("replay_gen", s.replay_gen.get_state());
  root.write("explore_gen", s.explore_gen.get_state());
  write_int(root, "global_step", s.counters.global_step);
  write_int(root, "iteration", s.counters.iteration);
  write_int(root, "next_log", s.counters.next_log);
  if (s.selected != nullptr && !s.selected->empty()) {
    torch::serialize::OutputArchive selected;
    s.selected->save(selected);
    root.write("selected", selected);
  }
  write_int(root, "format_version", kFormatVersion);

  std::ostringstream bytes;
  root.save_to(bytes);
  std::filesystem::create_directories(path.parent_path());
  write_file_atomic(path, bytes.str());
}

void load_checkpoint(const std::filesystem::path& path, TrainingState& s, c10::Device device) {
  torch::serialize::InputArchive root = open(path, device);
  try {
    torch::serialize::InputArchive learner;
    root.read("learner", learner);
    s.learner.load(learner);

    torch::serialize::InputArchive replay;
    root.read("replay", replay);
    Batch storage;
    auto fields = replay_fields(storage);
    for (size_t i = 0; i < fields.size(); ++i) *fields[i] = read_tensor(replay, kReplayKeys[i]);
    s.replay.restore(storage, read_int(replay, "size"), read_int(replay, "cursor"));

    torch::serialize::InputArchive env;
    root.read("env", env);
    VecEnvSnapshot snap;
    auto env_f = env_fields(snap);
    for (size_t i = 0; i < env_f.size(); ++i) *env_f[i] = read_tensor(env, kEnvKeys[i]);
    s.env.restore(snap);

    s.replay_gen.set_state(read_tensor(root, "replay_gen").cpu());
    s.explore_gen.set_state(read_tensor(root, "explore_gen").cpu());
    s.counters.global_step = read_int(root, "global_step");
    s.counters.iteration = read_int(root, "iteration");
    s.counters.next_log = read_int(root, "next_log");
    if (s.selected != nullptr) {
      torch::serialize::InputArchive selected;
      // None yet (no periodic evaluation before this checkpoint) is a valid state.
      if (root.try_read("selected", selected) && !s.selected->load(selected)) {
        std::fprintf(stderr,
                     "warning: run.select_episodes changed since %s was written; policy "
                     "selection starts afresh\n",
                     path.string().c_str());
      }
    }
  } catch (const c10::Error& e) {
    throw std::runtime_error(
        "checkpoint '" + path.string() +
        "' does not match this run's configuration: " + e.what_without_backtrace());
  }
}

std::vector<std::filesystem::path> list_checkpoints(const std::filesystem::path& run_dir) {
  std::vector<std::pair<int64_t, std::filesystem::path>> found;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(run_dir / "checkpoints", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("step_", 0) != 0 || e.path().extension() != ".pt") continue;
    try {
      found.emplace_back(std::stoll(name.substr(5)), e.path());
    } catch (const std::exception&) {
    }
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::filesystem::path> out;
  for (auto& f : found) out.push_back(f.second);
  return out;
}

int64_t load_actor(const std::filesystem::path& path, Actor& actor, c10::Device device,
                   ActorChoice which) {
  torch::serialize::InputArchive root = open(path, device, kOldestActorFormat);
  torch::serialize::InputArchive learner, selected, actor_archive;
  try {
    if (which == ActorChoice::kSelected && root.try_read("selected", selected)) {
      selected.read("actor", actor_archive);
      actor->load(actor_archive);
      return read_int(selected, "step");
    }
    root.read("learner", learner);
    learner.read("actor", actor_archive);
    actor->load(actor_archive);
    return -1;
  } catch (const c10::Error& e) {
    throw std::runtime_error(
        "checkpoint '" + path.string() +
        "' does not hold an actor of this run's shape: " + e.what_without_backtrace());
  }
}

}  // namespace vecsac
