/// @brief A run directory's TensorBoard events (RUN_DIR/tb/): written from its logs after the
/// fact (`vecsac export-tb`, a resume) and appended live by the trainer at each log point.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "vecsac/io/tfevents.h"

namespace vecsac {

/// A log line's scalars (every number but global_step and the clocks; null and arrays have
/// no point on a chart) at its global_step; wall_time as given.
ScalarEvent scalar_event(const nlohmann::json& line, double wall_time);

struct TensorBoardExport {
  std::filesystem::path file;
  size_t events = 0, tags = 0;
};

/// Writes RUN_DIR/metrics.jsonl and evals.jsonl as one event file in RUN_DIR/tb/ (atomically)
/// and removes earlier event files there, which would show every point twice. Wall times
/// come from the logs' clocks, dated by metrics.jsonl's last write (docs/reporting.md).
/// Throws naming the file when the logs are missing or malformed; `allow_empty`: a
/// metrics.jsonl without lines gives a file of no events (a resume before the first log).
TensorBoardExport export_run_tensorboard(const std::filesystem::path& run,
                                         bool allow_empty = false);

/// The trainer's live event file: one scalar event per log line, flushed as written, so that
/// `tensorboard --logdir RUN_DIR` follows a run while it trains.
class TensorBoardLog {
 public:
  /// A fresh run: replaces RUN_DIR/tb/'s event files with a new one. A resume from the
  /// checkpoint at `resume_step`: keeps the earlier process's event file up to that step, its
  /// points at the times they were written, and appends after it; without one file that reads
  /// back whole, rebuilds the events from the logs (already cut back to the checkpoint).
  TensorBoardLog(const std::filesystem::path& run, bool resume, int64_t resume_step);
  /// Appends `line`'s scalars (none: nothing) at the current time.
  void append(const nlohmann::json& line);
  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
  std::ofstream out_;
};

}  // namespace vecsac
