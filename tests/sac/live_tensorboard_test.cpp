/// @brief The trainer's live TensorBoard events: what `export-tb` writes from the same logs,
/// but for the clocks, from a fresh run and across a stop and resume.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/read_bytes.h"
#include "support/temp_dir_test.h"
#include "support/tfevents_reader.h"
#include "support/tiny_config.h"
#include "vecsac/io/run_tensorboard.h"
#include "vecsac/io/tfevents.h"
#include "vecsac/sac/trainer.h"
#include "vecsac/util/stop_signal.h"

namespace vecsac {
namespace {

namespace fs = std::filesystem;
using testing::read_bytes;
using LiveTensorBoardTest = testing::TempDirTest;

std::vector<fs::path> event_files(const fs::path& run) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(run / "tb")) {
    if (e.path().filename().string().find("tfevents") != std::string::npos) {
      files.push_back(e.path());
    }
  }
  return files;
}

// The event protos of an event file (read_tfrecords checks the framing and both CRCs),
// each without its wall_time: field 1, a fixed64, the first 9 bytes of every Event here.
std::vector<std::string> events_without_clock(const std::string& file) {
  std::vector<std::string> events;
  for (const std::string& data : testing::read_tfrecords(file)) {
    EXPECT_EQ(data[0], '\x09') << "an Event opens with its wall_time";
    events.push_back(data.substr(9));
  }
  return events;
}

Config config() {
  Config c = testing::tiny_config(1200);
  c.run.eval_freq = 400;
  c.run.log_interval = 200;
  c.run.checkpoint_interval = 400;
  return c;
}

// The live file against an export of the run's logs as they stand (export-tb replaces it).
void expect_live_equals_export(const fs::path& run) {
  const std::vector<fs::path> live = event_files(run);
  ASSERT_EQ(live.size(), 1u) << "one event file per run";
  const std::vector<std::string> got = events_without_clock(read_bytes(live.front()));
  const TensorBoardExport e = export_run_tensorboard(run);
  const std::vector<std::string> want = events_without_clock(read_bytes(e.file));
  EXPECT_EQ(got.size(), e.events + 1) << "the version event, then one per log line";
  EXPECT_EQ(got, want);
}

TEST_F(LiveTensorBoardTest, AFreshRunWritesWhatExportTbWritesFromItsLogs) {
  TrainOptions opt;
  opt.out_dir = dir_ / "run";
  opt.quiet = true;
  train(config(), opt);
  // 6 log points and 3 evaluations, all with scalars (the first log point has the return).
  expect_live_equals_export(opt.out_dir);
}

// Trains to step 700 and stops there, then removes the checkpoint at 700, as if the run had
// died before it: a resume goes back to 400, and what was logged after 400 must not appear
// twice once the resumed run logs it again.
TrainOptions stop_at_700_and_lose_its_checkpoint(const fs::path& run) {
  TrainOptions opt;
  opt.out_dir = run;
  opt.quiet = true;
  opt.after_iteration = [](int64_t step) {
    if (step == 700) request_stop(SIGTERM);
  };
  EXPECT_THROW(train(config(), opt), StopRequested);
  request_stop(0);
  fs::remove(opt.out_dir / "checkpoints" / "step_700.pt");
  opt.after_iteration = nullptr;
  opt.resume = true;
  return opt;
}

TEST_F(LiveTensorBoardTest, AResumeKeepsEachPointOnceWithItsOwnClockAndAppendsAfterIt) {
  TrainOptions opt = stop_at_700_and_lose_its_checkpoint(dir_ / "run");
  // The version event, the log points at 200, 400 and 600 and the evaluation at 400: the
  // point at 600 lies past the checkpoint the resume goes back to.
  const std::string before = read_bytes(event_files(opt.out_dir).front());
  const auto records = read_event_records(before);
  ASSERT_TRUE(records.has_value());
  ASSERT_EQ(records->size(), 5u);
  std::string kept;  // the records up to the checkpoint's step, wall times and all
  for (const EventRecord& r : *records) {
    if (r.step <= 400) kept.append(r.record);
  }
  EXPECT_EQ(kept.size(), before.size() - records->back().record.size());
  train(config(), opt);
  const std::string after = read_bytes(event_files(opt.out_dir).front());
  EXPECT_EQ(after.substr(0, kept.size()), kept)
      << "the points before the resume keep the times they were written at";
  expect_live_equals_export(opt.out_dir);
}

// An event file that does not read back whole (cut short here) cannot be continued: the
// resume rebuilds it from the logs, so each point is still there once.
TEST_F(LiveTensorBoardTest, AResumeRebuildsADamagedEventFileFromTheLogs) {
  TrainOptions opt = stop_at_700_and_lose_its_checkpoint(dir_ / "run");
  const fs::path file = event_files(opt.out_dir).front();
  const std::string bytes = read_bytes(file);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() - 3);
  ::testing::internal::CaptureStderr();
  train(config(), opt);
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("rebuilt from the logs"),
            std::string::npos);
  expect_live_equals_export(opt.out_dir);
}

// An event file that reads back whole but lacks a logged point (left behind by an older
// vecsac, or by a stop between a log line and its event) is rebuilt too, so that point is back.
TEST_F(LiveTensorBoardTest, AResumeRebuildsAnEventFileThatLacksALoggedPoint) {
  TrainOptions opt = stop_at_700_and_lose_its_checkpoint(dir_ / "run");
  const fs::path file = event_files(opt.out_dir).front();
  const std::string bytes = read_bytes(file);
  const auto records = read_event_records(bytes);
  ASSERT_TRUE(records.has_value());
  std::string without_200;  // every record but the log point at step 200
  for (const EventRecord& r : *records) {
    if (r.step != 200) without_200.append(r.record);
  }
  ASSERT_LT(without_200.size(), bytes.size());
  std::ofstream(file, std::ios::binary | std::ios::trunc) << without_200;
  ::testing::internal::CaptureStderr();
  train(config(), opt);
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("rebuilt from the logs"),
            std::string::npos);
  expect_live_equals_export(opt.out_dir);
}

}  // namespace
}  // namespace vecsac
