/// @brief `vecsac export-tb`: what it writes, read back; re-runs replace; resumed clocks; bad
/// input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>

#include "support/cli_test.h"
#include "support/run_cli.h"
#include "support/temp_dir_test.h"
#include "support/tfevents_reader.h"
#include "vecsac/io/dir_lock.h"
#include "vecsac/io/jsonl_file.h"

namespace vecsac {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::run_cli;
const fs::path kFixture = testing::kReportRuns / "pm_seed0";

std::vector<fs::path> event_files(const fs::path& run) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(run / "tb")) {
    if (e.path().filename().string().starts_with("events.out.tfevents.")) files.push_back(e.path());
  }
  return files;
}

class ExportTbCliTest : public testing::TempDirTest {
 protected:
  /// Exports `run` and reads back its one event file.
  static std::vector<testing::ReadEvent> export_and_read(const fs::path& run) {
    const auto r = run_cli("export-tb " + run.string());
    EXPECT_EQ(r.code, 0) << r.output;
    const auto files = event_files(run);
    EXPECT_EQ(files.size(), 1u);
    if (files.empty()) return {};
    return testing::read_event_file(slurp(files[0]));
  }
};

TEST_F(ExportTbCliTest, HelpNamesTheRunDirAndHowToView) {
  const auto r = run_cli("export-tb --help");
  EXPECT_EQ(r.code, 0);
  for (const char* f : {"RUN_DIR", "tb/", "tensorboard --logdir"})
    EXPECT_THAT(r.output, HasSubstr(f));
}

TEST_F(ExportTbCliTest, EveryNonNullNumberOfMetricsAndEvalsBecomesAScalar) {
  const fs::path run = dir_ / "run";
  fs::copy(kFixture, run);
  const auto events = export_and_read(run);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].file_version, "brain.Event:2");

  // Expected: per log line, its (step, tag, value) for every non-null number.
  std::vector<std::tuple<int64_t, std::string, float>> want, got;
  for (const char* file : {"metrics.jsonl", "evals.jsonl"}) {
    for (const auto& [line, record] : read_jsonl_file(run / file).records) {
      for (const auto& [key, value] : record.items()) {
        if (key == "global_step" || key == "time_s" || key == "train_time_s") continue;
        if (!value.is_number()) continue;
        want.emplace_back(record["global_step"].get<int64_t>(), key,
                          static_cast<float>(value.get<double>()));
      }
    }
  }
  int64_t previous_step = -1;
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_GE(events[i].step, previous_step) << "events are in step order";
    previous_step = events[i].step;
    for (const auto& [tag, value] : events[i].values) got.emplace_back(events[i].step, tag, value);
  }
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
  EXPECT_THAT(std::get<1>(got.front()), ::testing::Not(HasSubstr("returns")));

  // The last metrics line is dated by metrics.jsonl's modification time.
  const double mtime = std::chrono::duration<double>(std::chrono::file_clock::to_sys(
                                                         fs::last_write_time(run / "metrics.jsonl"))
                                                         .time_since_epoch())
                           .count();
  double last_metrics_wall = 0;
  for (const auto& e : events) {
    for (const auto& v : e.values) {
      if (v.first == "charts/SPS") last_metrics_wall = std::max(last_metrics_wall, e.wall_time);
    }
  }
  EXPECT_NEAR(last_metrics_wall, mtime, 1e-3);
}

TEST_F(ExportTbCliTest, ReRunReplacesTheEarlierExportAndKeepsOtherFiles) {
  const fs::path run = dir_ / "run";
  fs::copy(kFixture, run);
  fs::create_directories(run / "tb");
  std::ofstream(run / "tb" / "events.out.tfevents.1.oldhost") << "stale";
  std::ofstream(run / "tb" / "notes.txt") << "mine";
  export_and_read(run);
  const auto again = export_and_read(run);
  EXPECT_FALSE(again.empty());
  EXPECT_EQ(event_files(run).size(), 1u);
  EXPECT_TRUE(fs::exists(run / "tb" / "notes.txt"));
  EXPECT_FALSE(fs::exists(run / "tb" / ".export.partial"));
}

// A run in training writes tb/ live: export-tb refuses it (naming the holder) rather than
// replace the trainer's open event file.
TEST_F(ExportTbCliTest, ARunInTrainingIsRefusedAndItsEventsKept) {
  const fs::path run = dir_ / "run";
  fs::copy(kFixture, run);
  fs::create_directories(run / "tb");
  std::ofstream(run / "tb" / "events.out.tfevents.1.live") << "live";
  {
    const DirLock training(run, "vecsac train");
    const auto r = testing::run_cli("export-tb " + run.string());
    EXPECT_NE(r.code, 0);
    EXPECT_THAT(r.output, ::testing::HasSubstr("vecsac train"));
    EXPECT_THAT(r.output, ::testing::HasSubstr("events live"));
    EXPECT_TRUE(fs::exists(run / "tb" / "events.out.tfevents.1.live"));
  }
  const auto r = testing::run_cli("export-tb " + run.string());
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST_F(ExportTbCliTest, AResumedRunsRestartedClockCarriesOn) {
  // time_s restarts at 0 in the process that resumed at step 200.
  const fs::path run = dir_ / "run";
  fs::create_directories(run);
  std::ofstream(run / "metrics.jsonl") << R"({"global_step": 100, "time_s": 1.0, "charts/SPS": 1}
{"global_step": 200, "time_s": 2.0, "charts/SPS": 2}
{"global_step": 300, "time_s": 0.5, "charts/SPS": 3}
{"global_step": 400, "time_s": 1.5, "charts/SPS": 4}
)";
  std::ofstream(run / "evals.jsonl")
      << R"({"global_step": 300, "time_s": 0.75, "eval/mean_return": -3}
)";
  const auto events = export_and_read(run);
  ASSERT_EQ(events.size(), 6u);
  std::map<std::string, double> wall;  // by "tag@step"
  for (const auto& e : events) {
    for (const auto& v : e.values) wall[v.first + "@" + std::to_string(e.step)] = e.wall_time;
  }
  const double start = wall["charts/SPS@400"] - 3.5;
  EXPECT_NEAR(wall["charts/SPS@100"] - start, 1.0, 1e-6);
  EXPECT_NEAR(wall["charts/SPS@200"] - start, 2.0, 1e-6);
  EXPECT_NEAR(wall["charts/SPS@300"] - start, 2.5, 1e-6);
  EXPECT_NEAR(wall["eval/mean_return@300"] - start, 2.75, 1e-6);
  EXPECT_NEAR(events[0].wall_time, start, 1e-6);
}

TEST_F(ExportTbCliTest, ATornLastLineIsLeftOutWithAWarning) {
  const fs::path run = dir_ / "run";
  fs::create_directories(run);
  std::ofstream(run / "metrics.jsonl")
      << "{\"global_step\": 100, \"time_s\": 1.0, \"charts/SPS\": 1}\n"
         "{\"global_step\": 200, \"ti";
  const auto r = run_cli("export-tb " + run.string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("metrics.jsonl: left out the last line"));
  EXPECT_EQ(testing::read_event_file(slurp(event_files(run).at(0))).size(), 2u);
}

TEST_F(ExportTbCliTest, BadRunsAreOneLineErrorsNamingFileAndLine) {
  fs::create_directories(dir_ / "empty");
  fs::create_directories(dir_ / "nolines");
  std::ofstream(dir_ / "nolines" / "metrics.jsonl") << "\n";
  fs::create_directories(dir_ / "bad");
  std::ofstream(dir_ / "bad" / "metrics.jsonl") << "{\"global_step\": 1, \"time_s\": 0}\n{oops}\n";
  fs::create_directories(dir_ / "nostep");
  std::ofstream(dir_ / "nostep" / "metrics.jsonl") << "{\"time_s\": 0, \"charts/SPS\": 1}\n";
  fs::create_directories(dir_ / "badeval");
  std::ofstream(dir_ / "badeval" / "metrics.jsonl") << "{\"global_step\": 1, \"time_s\": 0}\n";
  std::ofstream(dir_ / "badeval" / "evals.jsonl") << "[1, 2]\n";
  fs::create_directories(dir_ / "twice");
  std::ofstream(dir_ / "twice" / "metrics.jsonl")
      << "{\"global_step\": 8, \"time_s\": 0}\n{\"global_step\": 8, \"time_s\": 1}\n";
  const std::pair<std::string, std::vector<std::string>> cases[] = {
      {"", {"RUN_DIR is required"}},
      {(dir_ / "twice").string(), {"twice/metrics.jsonl:2:", "global_step 8 does not follow"}},
      {(dir_ / "missing").string(), {"missing", "does not exist"}},
      {(dir_ / "empty").string(), {"has no metrics.jsonl", "not a vecsac run directory"}},
      {(dir_ / "nolines").string(), {"metrics.jsonl", "no log lines"}},
      {(dir_ / "bad").string(), {"bad/metrics.jsonl:2:", "not valid JSON"}},
      {(dir_ / "nostep").string(), {"nostep/metrics.jsonl:1:", "global_step"}},
      {(dir_ / "badeval").string(), {"badeval/evals.jsonl:1:", "expected a JSON object"}},
  };
  for (const auto& [args, fragments] : cases) {
    const auto r = run_cli("export-tb " + args);
    EXPECT_NE(r.code, 0) << args;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << args << "\n" << r.output;
    for (const auto& f : fragments) EXPECT_THAT(r.output, HasSubstr(f)) << args;
  }
  EXPECT_FALSE(fs::exists(dir_ / "bad" / "tb")) << "nothing written for a bad run";
}

}  // namespace
}  // namespace vecsac
