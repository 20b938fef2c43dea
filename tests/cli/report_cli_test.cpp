/// @brief `vecsac report` from the command line: flags, the Python it runs, errors, one report.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/cli_test.h"
#include "support/run_cli.h"
#include "support/temp_dir_test.h"

namespace vecsac {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::run_cli;

class ReportCliTest : public testing::TempDirTest {
 protected:
  void TearDown() override {
    ::unsetenv("VECSAC_PYTHON");
    TempDirTest::TearDown();
  }
  /// `vecsac report` with the build's Python; skips where the build has none.
  testing::RunResult report(const std::string& args) {
    auto r = run_cli("report " + args);
    if (r.output.find("no Python configured") != std::string::npos) {
      skipped_ = true;
    }
    return r;
  }
  bool skipped_ = false;
};

TEST_F(ReportCliTest, HelpListsFlagsWithDefaults) {
  const auto r = run_cli("report --help");
  EXPECT_EQ(r.code, 0);
  for (const char* f : {"RUN_DIR", "--out", "report.html", "--title", "run.seed"}) {
    EXPECT_THAT(r.output, HasSubstr(f));
  }
}

TEST_F(ReportCliTest, AMissingPythonNamesTheFix) {
  ::setenv("VECSAC_PYTHON", (dir_ / "no-such-python").c_str(), 1);
  const auto r = run_cli("report " + (testing::kReportRuns / "pm_seed0").string());
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  for (const char* f : {"no-such-python", "VECSAC_PYTHON", "scripts/setup.sh"}) {
    EXPECT_THAT(r.output, HasSubstr(f));
  }
}

TEST_F(ReportCliTest, APythonWithoutPlotlyNamesTheFix) {
  // The system Python without site-packages: the standard library only.
  const fs::path python = dir_ / "bare-python";
  std::ofstream(python) << "#!/bin/sh\nexec python3 -S \"$@\"\n";
  fs::permissions(python, fs::perms::owner_all);
  ::setenv("VECSAC_PYTHON", python.c_str(), 1);
  const auto r = run_cli("report " + (testing::kReportRuns / "pm_seed0").string() + " --out " +
                         (dir_ / "r.html").string());
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  for (const char* f : {"is not installed", "scripts/setup.sh"})
    EXPECT_THAT(r.output, HasSubstr(f));
  EXPECT_FALSE(fs::exists(dir_ / "r.html"));
}

TEST_F(ReportCliTest, WritesOneSelfContainedFileForTwoGroups) {
  const fs::path out = dir_ / "report.html";
  std::string args;
  for (const char* run :
       {"pm_seed0", "pm_seed1", "pm_seed2", "pm_tau0.02_seed0", "pm_tau0.02_seed1"}) {
    args += (testing::kReportRuns / run).string() + " ";
  }
  const auto r = report(args + "--out " + out.string() + " --title 'my runs'");
  if (skipped_) GTEST_SKIP() << "this build has no VECSAC_PYTHON: " << r.output;
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("5 runs in 2 groups"));
  const std::string html = slurp(out);
  EXPECT_THAT(html, HasSubstr("<title>my runs</title>"));
  EXPECT_THAT(html, HasSubstr("plotly.js v"));  // the library inline, so it opens offline
  EXPECT_THAT(html, ::testing::Not(HasSubstr("<script src=")));
  EXPECT_EQ(entries(), 1) << "no temporary file left beside the report";
}

TEST_F(ReportCliTest, BadRunsAreOneLineErrorsThatKeepAnEarlierReport) {
  const fs::path out = dir_ / "report.html";
  std::ofstream(out) << "earlier";
  fs::create_directories(dir_ / "bad");
  fs::copy(testing::kReportRuns / "pm_seed0" / "config.json", dir_ / "bad");
  std::ofstream(dir_ / "bad" / "metrics.jsonl")
      << "{\"global_step\": 1}\n{\"global_step\": 2,}\n\n";
  const std::pair<std::string, std::vector<std::string>> cases[] = {
      {(dir_ / "missing").string(), {"run directory", "missing", "does not exist"}},
      {dir_.string(), {"has no config.json", "not a vecsac run directory"}},
      {(dir_ / "bad").string(), {"bad/metrics.jsonl:2:", "not valid JSON"}},
  };
  for (const auto& [run, fragments] : cases) {
    const auto r = report(run + " --out " + out.string());
    if (skipped_) GTEST_SKIP() << "this build has no VECSAC_PYTHON: " << r.output;
    EXPECT_EQ(r.code, 1) << run;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << run << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("vecsac report: error: "));
    for (const auto& f : fragments) EXPECT_THAT(r.output, HasSubstr(f)) << run;
  }
  EXPECT_EQ(slurp(out), "earlier");
}

}  // namespace
}  // namespace vecsac
