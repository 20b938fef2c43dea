/// @brief Checkpoints: the whole training state in one file, written atomically, verified on load.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>

#include "vecsac/config/config.h"
#include "vecsac/env/vec_env.h"
#include "vecsac/random/random_stream.h"
#include "vecsac/replay/replay_buffer.h"
#include "vecsac/sac/learner.h"
#include "vecsac/sac/policy_selection.h"

namespace vecsac {

/// Host-side loop counters.
struct LoopCounters {
  int64_t global_step = 0;  ///< env transitions so far
  int64_t iteration = 0;    ///< vector steps so far
  int64_t next_log = 0;     ///< global_step of the next log point
};

/// References to every piece of training state; the unit of checkpointing.
struct TrainingState {
  SacLearner& learner;
  ReplayBuffer& replay;
  VecEnv& env;
  RandomStream& replay_stream;
  RandomStream& explore_stream;
  LoopCounters& counters;
  SelectedPolicy* selected = nullptr;  ///< with run.select_episodes > 0
};

/// A readable checkpoint of another configuration (or, for load_actor, another actor
/// shape): older checkpoints of the same run would not match either, so a resume stops
/// here instead of falling back to them. A truncated or corrupt file is a plain
/// std::runtime_error.
struct CheckpointMismatch : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// checkpoints/step_<global_step>.pt under run_dir.
std::filesystem::path checkpoint_path(const std::filesystem::path& run_dir, int64_t global_step);

/// Serialises `state` and writes it atomically (temp file, fsync, rename): a
/// crash mid-write leaves the previous checkpoints untouched.
void save_checkpoint(const std::filesystem::path& path, const TrainingState& state);

/// Restores `state` (built from the same config) from `path`. Throws
/// std::runtime_error naming the file when it is truncated, corrupt or from
/// another configuration; `state` is then unusable and must be rebuilt.
void load_checkpoint(const std::filesystem::path& path, TrainingState& state, c10::Device device);

/// The global_step in a checkpoint's file name (step_<N>.pt), or -1 for another name.
int64_t checkpoint_step(const std::filesystem::path& path);

/// Whether a checkpoint file reads back whole: its trailer's length and CRC-32C match the
/// archive. A file of a format before the trailer counts as intact (only loading it tells);
/// one that cannot be opened does not. Reads the whole file.
bool checkpoint_intact(const std::filesystem::path& path);

/// Checkpoint files of a run, newest (highest step) first.
std::vector<std::filesystem::path> list_checkpoints(const std::filesystem::path& run_dir);

/// Calls load(file) on each of `newest_first` until one succeeds and returns that file: the
/// fallback of resume and eval. An unreadable file (a std::runtime_error: truncated, damaged)
/// is skipped with a warning on stderr, unless it is the last, whose error is rethrown; a
/// CheckpointMismatch is rethrown at once, since older files of the run hold the same shapes.
std::filesystem::path load_newest_readable(
    const std::vector<std::filesystem::path>& newest_first,
    const std::function<void(const std::filesystem::path&)>& load);

/// Which of a checkpoint's actors to evaluate.
enum class ActorChoice {
  kSelected,  ///< the run's selected actor (run.select_episodes) if it has one, else the last
  kLast       ///< the actor as training left it
};

/// Loads only an actor's weights from a checkpoint into `actor` (for eval).
/// Returns the global_step of the selected actor loaded, or -1 for the last one.
int64_t load_actor(const std::filesystem::path& path, Actor& actor, c10::Device device,
                   ActorChoice which = ActorChoice::kSelected);

}  // namespace vecsac
