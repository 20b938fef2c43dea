/// @brief RUN_DIR/tb/: TensorBoard events of a run, exported from its logs or appended live.
#include "vecsac/io/run_tensorboard.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "vecsac/io/atomic_file.h"
#include "vecsac/io/jsonl_file.h"

namespace vecsac {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kEventFilePrefix = "events.out.tfevents.";

// Coordinates and clocks of a log line, not scalars to chart.
bool is_axis(const std::string& key) {
  return key == "global_step" || key == "time_s" || key == "train_time_s";
}

struct LogLine {
  int64_t step = 0;
  double time_s = 0;
  ScalarEvent event;  // wall_time filled in once the run's start is known
};

std::vector<LogLine> read_log(const fs::path& file) {
  const JsonlFile jsonl = read_jsonl_file(file);
  if (jsonl.torn_last_line) {
    std::cerr << "warning: " << file.string()
              << ": left out the last line, which is cut short (a run still writing it?)"
              << std::endl;
  }
  std::vector<LogLine> lines;
  for (const auto& [line_no, record] : jsonl.records) {
    const std::string where = file.string() + ":" + std::to_string(line_no) + ": ";
    const auto step = record.find("global_step");
    const auto time = record.find("time_s");
    if (step == record.end() || !step->is_number_integer() || step->get<int64_t>() < 0) {
      throw std::runtime_error(where + "needs \"global_step\", a non-negative integer");
    }
    if (time == record.end() || !time->is_number()) {
      throw std::runtime_error(where + "needs \"time_s\", a number");
    }
    if (!lines.empty() && step->get<int64_t>() <= lines.back().step) {
      throw std::runtime_error(where + "global_step " + std::to_string(step->get<int64_t>()) +
                               " does not follow the line before's " +
                               std::to_string(lines.back().step) +
                               ": steps must increase (did two runs write this file?)");
    }
    lines.push_back({step->get<int64_t>(), time->get<double>(), scalar_event(record, 0)});
  }
  return lines;
}

// time_s counts from the start of each training process, so it restarts at 0
// after a --resume. Elapsed time carries on instead: each process's times are
// offset by the last time its predecessor logged (the pause between processes
// is not known, and not counted). Returns, per process, its last step and offset.
struct Segment {
  int64_t last_step;
  double offset;
};
std::vector<Segment> fold_restarts(std::vector<LogLine>& metrics) {
  std::vector<Segment> segments{{0, 0.0}};
  double previous = 0;
  for (auto& l : metrics) {
    if (l.time_s < previous) segments.push_back({l.step, segments.back().offset + previous});
    previous = l.time_s;
    segments.back().last_step = l.step;
    l.time_s += segments.back().offset;
  }
  return segments;
}

// An evaluation belongs to the process that logged the metrics around its step.
void apply_offsets(std::vector<LogLine>& evals, const std::vector<Segment>& segments) {
  for (auto& l : evals) {
    auto s = std::find_if(segments.begin(), segments.end(),
                          [&](const Segment& seg) { return seg.last_step >= l.step; });
    l.time_s += (s == segments.end() ? segments.back() : *s).offset;
  }
}

double seconds_since_epoch(fs::file_time_type t) {
  const auto sys = std::chrono::file_clock::to_sys(t);
  return std::chrono::duration<double>(sys.time_since_epoch()).count();
}

std::string hostname() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

double now_since_epoch() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A new event file's name: TensorBoard reads any file whose name holds "tfevents".
fs::path new_event_file(const fs::path& tb) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return tb / (std::string(kEventFilePrefix) + std::to_string(now) + "." + hostname());
}

// One event file per run: an earlier one would show every point twice.
void remove_other_event_files(const fs::path& tb, const fs::path& keep) {
  for (const auto& entry : fs::directory_iterator(tb)) {
    if (entry.path() != keep && entry.path().filename().string().starts_with(kEventFilePrefix)) {
      fs::remove(entry.path());
    }
  }
}

// A resume keeps the live event file an earlier process of the run wrote, cut back to the
// checkpoint's step, so its points keep the wall times they were written at. Returns it, or
// nothing when there is no single such file that reads back whole and holds a point for each
// log line (then the caller rebuilds the events from the logs, with estimated times).
std::optional<fs::path> keep_live_events(const fs::path& tb, int64_t up_to_step) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(tb)) {
    if (entry.path().filename().string().starts_with(kEventFilePrefix))
      files.push_back(entry.path());
  }
  if (files.size() != 1) return std::nullopt;
  std::ifstream in(files.front(), std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (!in.good() && !in.eof()) return std::nullopt;
  const auto records = read_event_records(bytes);
  if (!records || records->empty()) return std::nullopt;
  std::string kept = std::string(records->front().record);  // the version event
  std::vector<int64_t> have, want;
  for (size_t i = 1; i < records->size(); ++i) {
    if ((*records)[i].step > up_to_step) continue;
    kept.append((*records)[i].record);
    have.push_back((*records)[i].step);
  }
  // The file must hold a point for every log line with scalars up to the step (the logs are
  // already cut back to it): one written by an older vecsac, or left behind by a stop between
  // a log line and its event, would otherwise lose those points for good.
  try {
    for (const char* name : {"metrics.jsonl", "evals.jsonl"}) {
      const fs::path log = tb.parent_path() / name;
      if (!fs::exists(log)) continue;
      for (const LogLine& l : read_log(log)) {
        if (l.step <= up_to_step && !l.event.values.empty()) want.push_back(l.step);
      }
    }
  } catch (const std::runtime_error&) {
    return std::nullopt;
  }
  std::sort(have.begin(), have.end());
  std::sort(want.begin(), want.end());
  if (have != want) return std::nullopt;
  const fs::path partial = tb / ".resume.partial";  // no "tfevents" in the name until whole
  write_file_atomic(partial, kept);
  fs::rename(partial, files.front());
  return files.front();
}

}  // namespace

ScalarEvent scalar_event(const nlohmann::json& line, double wall_time) {
  ScalarEvent e;
  e.wall_time = wall_time;
  const auto step = line.find("global_step");
  if (step != line.end() && step->is_number_integer()) e.step = step->get<int64_t>();
  for (const auto& [key, value] : line.items()) {
    // null (not logged yet, e.g. before learning starts) and non-scalars
    // (eval/returns) have no point on a scalar chart.
    if (is_axis(key) || !value.is_number()) continue;
    e.values.emplace_back(key, static_cast<float>(value.get<double>()));
  }
  return e;
}

TensorBoardExport export_run_tensorboard(const fs::path& run, bool allow_empty) {
  if (!fs::exists(run)) {
    throw std::runtime_error("run directory '" + run.string() + "' does not exist");
  }
  if (!fs::is_directory(run)) throw std::runtime_error("'" + run.string() + "' is not a directory");
  const fs::path metrics_file = run / "metrics.jsonl";
  if (!fs::exists(metrics_file)) {
    throw std::runtime_error("'" + run.string() +
                             "' has no metrics.jsonl: not a vecsac run directory (see "
                             "'vecsac train --out')");
  }
  std::vector<LogLine> metrics = read_log(metrics_file);
  if (metrics.empty() && !allow_empty) {
    throw std::runtime_error("'" + metrics_file.string() + "' has no log lines yet");
  }
  std::vector<LogLine> evals;
  if (fs::exists(run / "evals.jsonl")) evals = read_log(run / "evals.jsonl");

  // The logs hold no absolute times; the file's last write is the last log
  // point, which dates the run's start. See docs/reporting.md.
  const std::vector<Segment> segments = fold_restarts(metrics);
  apply_offsets(evals, segments);
  const double start = seconds_since_epoch(fs::last_write_time(metrics_file)) -
                       (metrics.empty() ? 0.0 : metrics.back().time_s);

  std::vector<ScalarEvent> events;
  std::vector<std::string> tags;
  for (auto* log : {&metrics, &evals}) {
    for (auto& l : *log) {
      if (l.event.values.empty()) continue;  // e.g. only nulls, before learning starts
      l.event.wall_time = start + l.time_s;
      for (const auto& v : l.event.values) tags.push_back(v.first);
      events.push_back(std::move(l.event));
    }
  }
  // Training and evaluation interleaved by step, as they happened.
  std::stable_sort(events.begin(), events.end(),
                   [](const ScalarEvent& a, const ScalarEvent& b) { return a.step < b.step; });
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());

  const fs::path tb = run / "tb";
  fs::create_directories(tb);
  TensorBoardExport out{new_event_file(tb), events.size(), tags.size()};
  // TensorBoard reads any file whose name holds "tfevents", so the file is
  // written under a name without it and renamed once complete.
  const fs::path partial = tb / ".export.partial";
  write_file_atomic(partial, tfevents_file(events, start));
  fs::rename(partial, out.file);
  remove_other_event_files(tb, out.file);
  return out;
}

TensorBoardLog::TensorBoardLog(const fs::path& run, bool resume, int64_t resume_step) {
  const fs::path tb = run / "tb";
  fs::create_directories(tb);
  if (resume && fs::exists(run / "metrics.jsonl")) {
    if (const auto kept = keep_live_events(tb, resume_step)) {
      file_ = *kept;
    } else {
      file_ = export_run_tensorboard(run, /*allow_empty=*/true).file;
      std::cerr << "note: " << tb.string()
                << " was rebuilt from the logs (no single event file that reads back whole and "
                   "holds every logged point to continue); "
                   "the wall times of its earlier points are estimated"
                << std::endl;
    }
    out_.open(file_, std::ios::binary | std::ios::app);
  } else {
    file_ = new_event_file(tb);
    out_.open(file_, std::ios::binary | std::ios::trunc);
    out_ << tfrecord(encode_file_version_event(now_since_epoch()));
    remove_other_event_files(tb, file_);
  }
  out_.flush();
  if (!out_)
    throw std::runtime_error("cannot write TensorBoard events to '" + file_.string() + "'");
}

void TensorBoardLog::append(const nlohmann::json& line) {
  const ScalarEvent e = scalar_event(line, now_since_epoch());
  if (e.values.empty()) return;
  out_ << tfrecord(encode_scalar_event(e));
  out_.flush();
}

}  // namespace vecsac
