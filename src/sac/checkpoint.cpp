/// @brief Checkpoint save/load.
#include "vecsac/sac/checkpoint.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "vecsac/io/atomic_file.h"
#include "vecsac/io/crc32c.h"
#include "vecsac/util/generator.h"

namespace vecsac {
namespace {

// Written last: a file that parses but lacks it is not a complete checkpoint.
// 2: FusedAdam's moments and step counts replaced torch::optim::Adam's state.
// 3: the same archive, followed by the checksum trailer below.
// 4: the replay buffer's stored rows only, and its capacity (3 saved every row of the
//    capacity: 36 MB for a Pendulum run that had stored 10,000 transitions). Reads 2 and 3.
// 5: the random streams as draw counts of counter-based streams (random/random_stream.h)
//    instead of generator states. Resuming 2 to 4 starts the streams afresh, with a warning.
// The actor's layout is the same in all, so eval reads any.
constexpr int64_t kFormatVersion = 5;
constexpr int64_t kOldestResumeFormat = 2;
constexpr int64_t kOldestActorFormat = 1;
constexpr int64_t kFirstChecksummedFormat = 3;

// The zip container's own CRCs are not checked by LibTorch's reader, and a flipped bit in
// a tensor record loads silently. So the archive is followed by a trailer of its own: the
// magic, the archive's length (catches truncation) and its CRC-32C, all little-endian.
constexpr char kTrailerMagic[8] = {'V', 'S', 'A', 'C', 'C', 'R', 'C', '1'};
constexpr size_t kTrailerSize = sizeof(kTrailerMagic) + 8 + 4;

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}
uint64_t get_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("checkpoint '" + path.string() +
                             "' is not readable: " + std::strerror(errno));
  }
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// The archive inside a checkpoint file's bytes, verified against its trailer. Files
// without a trailer are older formats: returned whole, `checked` false (open() then
// refuses one that claims a checksummed version, i.e. whose trailer was damaged).
std::string_view verified_archive(const std::filesystem::path& path, const std::string& bytes,
                                  bool& checked) {
  checked = bytes.size() >= kTrailerSize && std::memcmp(bytes.data() + bytes.size() - kTrailerSize,
                                                        kTrailerMagic, sizeof(kTrailerMagic)) == 0;
  if (!checked) return bytes;
  const char* trailer = bytes.data() + bytes.size() - kTrailerSize + sizeof(kTrailerMagic);
  const uint64_t length = get_le(trailer, 8);
  const auto stored = static_cast<uint32_t>(get_le(trailer + 8, 4));
  const size_t archive_size = bytes.size() - kTrailerSize;
  if (length != archive_size) {
    throw std::runtime_error("checkpoint '" + path.string() +
                             "' is truncated or corrupt: " + std::to_string(archive_size) +
                             " archive bytes where its trailer says " + std::to_string(length));
  }
  const std::string_view archive(bytes.data(), archive_size);
  const uint32_t computed = crc32c(archive);
  if (computed != stored) {
    char msg[96];
    std::snprintf(msg, sizeof msg, "CRC-32C %08x where its trailer says %08x", computed, stored);
    throw std::runtime_error("checkpoint '" + path.string() + "' is truncated or corrupt: " + msg);
  }
  return archive;
}

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

// What went wrong, for a message. LibTorch's reader throws c10::Error (whose what() carries a
// C++ backtrace) but also other std::exceptions, e.g. torch::jit::ErrorReport for a damaged
// pickle: every one of them means the file is unusable, never a crash.
std::string reason(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  return c10_error != nullptr ? c10_error->what_without_backtrace() : e.what();
}

// Opens a checkpoint whose format_version is in [oldest, kFormatVersion], after checking
// its bytes against their checksum (formats before 3 have none: a warning says so).
torch::serialize::InputArchive open(const std::filesystem::path& path, c10::Device device,
                                    int64_t oldest = kOldestResumeFormat) {
  const std::string bytes = read_bytes(path);
  bool checked = false;
  const std::string_view archive = verified_archive(path, bytes, checked);
  torch::serialize::InputArchive a;
  int64_t version = 0;
  try {
    a.load_from(archive.data(), archive.size(), device);
    version = read_int(a, "format_version");
  } catch (const std::exception& e) {
    throw std::runtime_error("checkpoint '" + path.string() +
                             "' is truncated or corrupt: " + reason(e));
  }
  if (version >= kFirstChecksummedFormat && !checked) {
    throw std::runtime_error(
        "checkpoint '" + path.string() + "' is truncated or corrupt: format_version " +
        std::to_string(version) + " but its checksum trailer is missing or damaged");
  }
  if (version < oldest || version > kFormatVersion) {
    throw std::runtime_error(
        "checkpoint '" + path.string() + "' is not usable: format_version " +
        std::to_string(version) + ", this build resumes only " +
        std::to_string(kOldestResumeFormat) + " to " + std::to_string(kFormatVersion) +
        (version == 1 ? " (version 1 predates FusedAdam's optimizer state; vecsac eval still "
                        "reads its actor)"
                      : ""));
  }
  if (!checked) {
    std::fprintf(stderr,
                 "warning: checkpoint '%s' (format_version %lld) predates checksums; its "
                 "contents cannot be verified\n",
                 path.string().c_str(), static_cast<long long>(version));
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
    Batch stored = s.replay.stored();
    auto fields = replay_fields(stored);
    for (size_t i = 0; i < fields.size(); ++i) replay.write(kReplayKeys[i], *fields[i]);
    write_int(replay, "capacity", s.replay.capacity());
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
  write_int(root, "replay_draws", s.replay_stream.draws());
  write_int(root, "explore_draws", s.explore_stream.draws());
  write_int(root, "global_step", s.counters.global_step);
  write_int(root, "iteration", s.counters.iteration);
  write_int(root, "next_log", s.counters.next_log);
  if (s.selected != nullptr && !s.selected->empty()) {
    torch::serialize::OutputArchive selected;
    s.selected->save(selected);
    root.write("selected", selected);
  }
  write_int(root, "format_version", kFormatVersion);

  std::ostringstream out;
  root.save_to(out);
  std::string bytes = std::move(out).str();
  const uint32_t crc = crc32c(bytes);
  const uint64_t length = bytes.size();
  bytes.append(kTrailerMagic, sizeof(kTrailerMagic));
  put_le(bytes, length, 8);
  put_le(bytes, crc, 4);
  std::filesystem::create_directories(path.parent_path());
  write_file_atomic(path, bytes);
}

void load_checkpoint(const std::filesystem::path& path, TrainingState& s, c10::Device device) {
  torch::serialize::InputArchive root = open(path, device);
  try {
    const bool counted_draws = read_int(root, "format_version") >= 5;
    torch::serialize::InputArchive learner;
    root.read("learner", learner);
    s.learner.load(learner, counted_draws);

    torch::serialize::InputArchive replay;
    root.read("replay", replay);
    Batch rows;
    auto fields = replay_fields(rows);
    for (size_t i = 0; i < fields.size(); ++i) *fields[i] = read_tensor(replay, kReplayKeys[i]);
    c10::IValue capacity;  // formats before 4 saved every row of the capacity
    const int64_t rows_capacity =
        replay.try_read("capacity", capacity) ? capacity.toInt() : rows.obs.size(0);
    s.replay.restore(rows, rows_capacity, read_int(replay, "size"), read_int(replay, "cursor"));

    torch::serialize::InputArchive env;
    root.read("env", env);
    VecEnvSnapshot snap;
    auto env_f = env_fields(snap);
    for (size_t i = 0; i < env_f.size(); ++i) *env_f[i] = read_tensor(env, kEnvKeys[i]);
    s.env.restore(snap);

    if (counted_draws) {
      s.replay_stream.set_draws(read_int(root, "replay_draws"));
      s.explore_stream.set_draws(read_int(root, "explore_draws"));
    } else {
      std::fprintf(stderr,
                   "warning: checkpoint '%s' predates format 5: its random streams were "
                   "generator states, which this build's counter-based streams cannot continue; "
                   "the run resumes with fresh streams (the same distributions, other draws "
                   "than the build that wrote it would make)\n",
                   path.string().c_str());
      s.replay_stream.set_draws(0);
      s.explore_stream.set_draws(0);
    }
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
  } catch (const std::exception& e) {
    throw CheckpointMismatch("checkpoint '" + path.string() +
                             "' does not match this run's configuration: " + reason(e));
  }
}

int64_t checkpoint_step(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  if (name.rfind("step_", 0) != 0 || path.extension() != ".pt") return -1;
  int64_t step = -1;
  const char* end = name.data() + name.size() - 3;
  const auto [stop, ec] = std::from_chars(name.data() + 5, end, step);
  return ec == std::errc() && stop == end && step >= 0 ? step : -1;
}

bool checkpoint_intact(const std::filesystem::path& path) {
  try {
    const std::string bytes = read_bytes(path);
    bool checked = false;
    (void)verified_archive(path, bytes, checked);
    return true;
  } catch (const std::runtime_error&) {
    return false;
  }
}

std::vector<std::filesystem::path> list_checkpoints(const std::filesystem::path& run_dir) {
  std::vector<std::pair<int64_t, std::filesystem::path>> found;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(run_dir / "checkpoints", ec)) {
    const int64_t step = checkpoint_step(e.path());
    if (step >= 0) found.emplace_back(step, e.path());
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::filesystem::path> out;
  for (auto& f : found) out.push_back(f.second);
  return out;
}

std::filesystem::path load_newest_readable(
    const std::vector<std::filesystem::path>& newest_first,
    const std::function<void(const std::filesystem::path&)>& load) {
  if (newest_first.empty()) throw std::invalid_argument("load_newest_readable: no checkpoint");
  for (size_t i = 0; i < newest_first.size(); ++i) {
    const std::filesystem::path& file = newest_first[i];
    try {
      load(file);
      return file;
    } catch (const CheckpointMismatch&) {
      throw;
    } catch (const std::runtime_error& e) {
      if (i + 1 == newest_first.size()) throw;
      std::fprintf(stderr, "warning: skipping %s\n", e.what());
    }
  }
  return {};  // unreachable: the last file returns or throws
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
  } catch (const std::exception& e) {
    throw CheckpointMismatch("checkpoint '" + path.string() +
                             "' does not hold an actor of this run's shape: " + reason(e));
  }
}

}  // namespace vecsac
