/// @brief `vecsac train` / `vecsac eval` from the command line: help, bad flags, a tiny run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "support/cli_test.h"
#include "support/run_cli.h"
#include "support/temp_dir_test.h"
#include "vecsac/io/json_file.h"

namespace vecsac {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::run_cli;
using TrainEvalCliTest = testing::TempDirTest;

TEST_F(TrainEvalCliTest, HelpListsEveryFlagWithDefaults) {
  const auto train = run_cli("train --help");
  EXPECT_EQ(train.code, 0);
  for (const char* f :
       {"--config", "pointmass.json", "--set", "--out", "--resume", "--sync-debug"}) {
    EXPECT_THAT(train.output, HasSubstr(f));
  }
  const auto eval = run_cli("eval --help");
  EXPECT_EQ(eval.code, 0);
  for (const char* f :
       {"--run", "--checkpoint", "--episodes", "--seed", "=0", "--init", "--json"}) {
    EXPECT_THAT(eval.output, HasSubstr(f));
  }
}

TEST_F(TrainEvalCliTest, BadFlagsAndConfigsAreOneLineErrors) {
  struct Case {
    std::string args;
    std::vector<std::string> fragments;
  };
  const Case cases[] = {
      {"train --bogus", {"--bogus"}},
      {"train --set sac.tua=0.1", {"unknown config key 'sac.tua'", "did you mean 'sac.tau'"}},
      {"train --set sac.batch_size=0", {"sac.batch_size=0", ">= 1"}},
      {"train --set run.device=tpu", {"device 'tpu'", "auto, cpu, cuda, cuda:N"}},
      {"train --config " + (dir_ / "missing.json").string(), {"--config", "missing.json"}},
      {"train --resume", {"--resume needs --out"}},
      {"train --resume --out " + dir_.string(), {"--resume", "not a run directory"}},
      {"eval", {"--run is required"}},
      {"eval --run " + dir_.string(), {"--episodes", "--init"}},
      {"eval --run " + dir_.string() + " --episodes 3 --init " + (dir_ / "x.json").string(),
       {"excludes"}},
  };
  std::ofstream(dir_ / "x.json") << R"({"states": [[0, 0]]})";
  for (const Case& c : cases) {
    const auto r = run_cli(c.args);
    EXPECT_NE(r.code, 0) << c.args;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << c.args << "\n" << r.output;
    for (const auto& f : c.fragments) EXPECT_THAT(r.output, HasSubstr(f)) << c.args;
  }
}

// A real process and a real SIGTERM, at whatever moment the first log line appears: exit
// status 143, the step's checkpoint written, the resume command printed, and that command
// finishes the run. A second writer meanwhile is refused, naming the first one's PID.
TEST_F(TrainEvalCliTest, SigtermStopsWithACheckpointAndTheResumeCommandFinishesTheRun) {
  const std::string run = (dir_ / "run").string();
  const std::string train =
      std::string(VECSAC_CLI_PATH) + " train --out " + run +
      testing::tiny_cpu_run({"env.num_envs=4", "sac.learning_starts=32", "sac.batch_size=16",
                             "run.total_timesteps=400000", "run.log_interval=40", "run.threads=1"});
  const std::string script = train + " > " + run + ".log 2>&1 & pid=$!\n" + "while [ ! -s " + run +
                             "/metrics.jsonl ]; do sleep 0.05; done\n" +
                             std::string(VECSAC_CLI_PATH) + " train --out " + run + " --overwrite" +
                             testing::tiny_cpu_run({}) + " > " + run +
                             ".second 2>&1; echo second=$?\n" +
                             "kill -TERM $pid; wait $pid; echo first=$?; echo pid=$pid\n";
  FILE* pipe = ::popen(("sh -c '" + script + "'").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  for (int c; (c = std::fgetc(pipe)) != EOF;) out.push_back(static_cast<char>(c));
  ::pclose(pipe);
  EXPECT_THAT(out, HasSubstr("second=1"));
  EXPECT_THAT(out, HasSubstr("first=143"));
  const std::string pid =
      out.substr(out.find("pid=") + 4, out.find('\n', out.find("pid=")) - out.find("pid=") - 4);
  std::ifstream second(run + ".second"), first(run + ".log");
  const std::string second_out((std::istreambuf_iterator<char>(second)), {}),
      first_out((std::istreambuf_iterator<char>(first)), {});
  EXPECT_THAT(second_out, HasSubstr("is in use by another process (PID " + pid));
  EXPECT_THAT(first_out, HasSubstr("vecsac train: stopped by SIGTERM at global_step "));
  EXPECT_THAT(first_out, HasSubstr("continue with: vecsac train --resume --out " + run));
  const auto step = std::stoll(first_out.substr(first_out.find("global_step ") + 12));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "run" / "checkpoints" /
                                      ("step_" + std::to_string(step) + ".pt")));
  const auto resumed = run_cli("train --resume --out " + run +
                               " --set run.total_timesteps=" + std::to_string(step + 80));
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_THAT(resumed.output, HasSubstr("resumed from"));
}

TEST_F(TrainEvalCliTest, TrainWritesTheRunDirectoryAndEvalReadsIt) {
  const std::string run = (dir_ / "run").string();
  const auto t = run_cli(
      "train --out " + run +
      testing::tiny_cpu_run({"env.num_envs=4", "sac.learning_starts=32", "sac.batch_size=16",
                             "run.total_timesteps=200", "run.log_interval=100", "run.threads=1"}));
  ASSERT_EQ(t.code, 0) << t.output;
  EXPECT_THAT(t.output, HasSubstr("update-to-data ratio"));
  EXPECT_THAT(t.output, HasSubstr("(1 CPU threads: run.threads)"));  // run.threads took effect
  for (const char* f : {"config.json", "metrics.jsonl", "eval.json", "checkpoints/step_200.pt"}) {
    EXPECT_TRUE(std::filesystem::exists(dir_ / "run" / f)) << f;
  }
  const auto resolved = read_json_file(dir_ / "run" / "config.json", "config");
  EXPECT_EQ(resolved["sac"]["batch_size"], 16);
  const std::string out = (dir_ / "e.json").string();
  const auto e = run_cli("eval --run " + run + " --episodes 5 --seed 3 --json " + out);
  ASSERT_EQ(e.code, 0) << e.output;
  const auto doc = read_json_file(out, "eval");
  EXPECT_EQ(doc["returns"].size(), 5u);
  EXPECT_EQ(doc["initial_obs"].size(), 5u);
  EXPECT_LT(doc["mean"].get<double>(), 0.0);
  // The point mass's exact optimum from the same starts: no policy beats it (up to the
  // env's float32 round-off), and the gap is the relative mean shortfall.
  ASSERT_EQ(doc["optimal_returns"].size(), 5u);
  double shortfall = 0, scale = 0;
  for (int i = 0; i < 5; ++i) {
    const double opt = doc["optimal_returns"][i], ret = doc["returns"][i];
    EXPECT_GE(opt, ret - 1e-5 * (1 + std::fabs(opt))) << i;
    shortfall += opt - ret;
    scale += std::fabs(opt);
  }
  EXPECT_GE(doc["optimality_gap"].get<double>(), -1e-9);
  EXPECT_NEAR(doc["optimality_gap"].get<double>(), shortfall / scale, 1e-12);
  EXPECT_THAT(e.output, HasSubstr("optimality gap"));
  // Given starts: the optimum of the notebook's 8.
  const auto notebook = run_cli("eval --run " + run + " --init " + std::string(VECSAC_SOURCE_DIR) +
                                "/configs/eval/pointmass_notebook_starts.json --json " + out + "4");
  ASSERT_EQ(notebook.code, 0) << notebook.output;
  const auto nb = read_json_file(out + "4", "eval");
  ASSERT_EQ(nb["optimal_returns"].size(), 8u);
  double opt_mean = 0;
  for (const auto& x : nb["optimal_returns"]) opt_mean += x.get<double>() / 8;
  EXPECT_NEAR(opt_mean, -2.5150, 5e-5);
  EXPECT_GE(nb["optimality_gap"].get<double>(), -1e-9);
  // Starts so far out that the dynamics overflow: an error, not a mean of -inf.
  std::ofstream(dir_ / "huge.json") << R"({"states": [[1e30, 0.0], [0.5, 0.0]]})";
  const auto huge = run_cli("eval --run " + run + " --init " + (dir_ / "huge.json").string() +
                            " --json " + out + "5");
  EXPECT_EQ(huge.code, 1) << huge.output;
  EXPECT_THAT(huge.output, HasSubstr("episode 0 returned"));
  EXPECT_THAT(huge.output, HasSubstr("not a finite number"));
  EXPECT_FALSE(std::filesystem::exists(out + "5"));
  // A newer but truncated checkpoint: eval warns and falls back to the good one.
  {
    std::ofstream bad(dir_ / "run" / "checkpoints" / "step_999999.pt", std::ios::binary);
    bad << "PK\x03\x04 truncated";
  }
  const auto fallback = run_cli("eval --run " + run + " --episodes 5 --seed 3 --json " + out + "3");
  ASSERT_EQ(fallback.code, 0) << fallback.output;
  EXPECT_THAT(fallback.output, HasSubstr("skipping"));
  EXPECT_THAT(fallback.output, HasSubstr("step_200.pt"));
  EXPECT_EQ(read_json_file(out + "3", "eval"), doc);
  // Same seed, same episodes.
  const auto again = run_cli("eval --run " + run + " --episodes 5 --seed 3 --json " + out + "2");
  ASSERT_EQ(again.code, 0);
  EXPECT_EQ(read_json_file(out + "2", "eval"), doc);
}

TEST_F(TrainEvalCliTest, EvalUsesTheSelectedActorUnlessToldTheLast) {
  const std::string run = (dir_ / "run").string();
  const auto t = run_cli(
      "train --out " + run +
      testing::tiny_cpu_run({"env.num_envs=4", "sac.learning_starts=32", "sac.batch_size=16",
                             "run.total_timesteps=400", "run.log_interval=100", "run.eval_freq=100",
                             "run.select_episodes=3"}));
  ASSERT_EQ(t.code, 0) << t.output;
  const auto report = read_json_file(dir_ / "run" / "eval.json", "eval");
  const int64_t step = report.at("selected_step").get<int64_t>();
  EXPECT_THAT(t.output, HasSubstr("selected actor, from step " + std::to_string(step)));

  const std::string starts = " --episodes 4 --seed 11 --json ";
  const auto selected = run_cli("eval --run " + run + starts + (dir_ / "s.json").string());
  ASSERT_EQ(selected.code, 0) << selected.output;
  EXPECT_THAT(selected.output, HasSubstr("selected actor, from step " + std::to_string(step)));
  const auto last =
      run_cli("eval --run " + run + " --last-actor" + starts + (dir_ / "l.json").string());
  ASSERT_EQ(last.code, 0) << last.output;
  EXPECT_THAT(last.output, Not(HasSubstr("selected actor")));
  if (step != 400) {
    EXPECT_NE(read_json_file(dir_ / "s.json", "eval")["returns"],
              read_json_file(dir_ / "l.json", "eval")["returns"]);
  }
}

}  // namespace
}  // namespace vecsac
