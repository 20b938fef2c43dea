/// @brief `vecsac rollout` end to end: output format and one-line errors for bad input.
#include "vecsac/cli/rollout.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/cli_test.h"
#include "support/run_cli.h"
#include "vecsac/io/json_file.h"

namespace vecsac {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

using testing::run_cli;
using testing::RunResult;

class RolloutCliTest : public testing::CliTest {
 protected:
  // Runs a failing command; checks it exits non-zero with exactly one line that
  // contains every expected fragment, and that OUT keeps its earlier content.
  void expect_error(const std::string& args, std::initializer_list<std::string> fragments) {
    const std::string out = file("out.json", "earlier result");
    const auto before = entries();
    const RunResult r = run_cli(args + " --out " + out);
    EXPECT_NE(r.code, 0) << args;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    for (const auto& f : fragments) EXPECT_THAT(r.output, HasSubstr(f)) << args;
    EXPECT_EQ(slurp(out), "earlier result") << "a failed run must leave OUT intact";
    EXPECT_EQ(entries(), before) << "no temporary or partial file may be left behind";
  }
};

TEST_F(RolloutCliTest, WritesTheDocumentedFormatMatchingVecEnv) {
  const std::string init = file("init.json", R"({"states": [[0.5, -0.25], [0.1, 0.2], [0, 0]]})");
  json actions = json::array();
  for (int t = 0; t < 201; ++t) actions.push_back({{1.0}, {-3.0}, {0.25}});
  const std::string acts = file("actions.json", json{{"actions", actions}}.dump());
  const RunResult r =
      run_cli("rollout --init " + init + " --actions " + acts + " --out " + path("out.json"));
  ASSERT_EQ(r.code, 0) << r.output;
  const json out = read_json_file(path("out.json"), "out");
  EXPECT_EQ(out["initial_obs"], json::parse("[[0.5, -0.25], [0.10000000149011612, "
                                            "0.20000000298023224], [0.0, 0.0]]"));
  ASSERT_EQ(out["obs"].size(), 201u);
  ASSERT_EQ(out["obs"][0].size(), 3u);
  // Hand-computed first step of env 0 (see PointMassTest.HandComputedSteps).
  EXPECT_FLOAT_EQ(out["obs"][0][0][0].get<float>(), 0.49f);
  EXPECT_FLOAT_EQ(out["obs"][0][0][1].get<float>(), -0.2f);
  EXPECT_FLOAT_EQ(out["reward"][0][0].get<float>(), -0.2451f);
  EXPECT_EQ(out["truncated"][198], json::parse("[false, false, false]"));
  EXPECT_EQ(out["truncated"][199], json::parse("[true, true, true]"));
  EXPECT_EQ(out["terminated"][199], json::parse("[false, false, false]"));

  // The same through the library: set the states, step, compare every number.
  EnvParams p;
  VecEnv env(p, 3, c10::Device(c10::kCPU));
  env.set_state(states_from_json(read_json_file(init, "init"), p, "init"));
  const json direct = run_rollout(env, actions_from_json(json{{"actions", actions}}, 1, "a"));
  EXPECT_EQ(direct, out);
}

TEST_F(RolloutCliTest, SeededResetWithoutInitIsDeterministicAndPendulumHasThreeObs) {
  const std::string acts = file("a.json", R"({"actions": [[[0.5], [1.5]], [[2], [-2]]]})");
  ASSERT_EQ(
      run_cli("rollout --env pendulum --seed 4 --actions " + acts + " --out " + path("o1.json"))
          .code,
      0);
  ASSERT_EQ(
      run_cli("rollout --env pendulum --seed 4 --actions " + acts + " --out " + path("o2.json"))
          .code,
      0);
  ASSERT_EQ(
      run_cli("rollout --env pendulum --seed 5 --actions " + acts + " --out " + path("o3.json"))
          .code,
      0);
  const json o1 = read_json_file(path("o1.json"), "o1");
  EXPECT_EQ(o1, read_json_file(path("o2.json"), "o2"));
  EXPECT_NE(o1["initial_obs"], read_json_file(path("o3.json"), "o3")["initial_obs"]);
  EXPECT_EQ(o1["initial_obs"][0].size(), 3u);
}

TEST_F(RolloutCliTest, BadInputIsOneClearLineAndLeavesOutIntact) {
  const std::string ok = file("ok.json", R"({"actions": [[[0.5], [1.5]]]})");
  const std::string init2 = file("init2.json", R"({"states": [[0.5, -0.25], [0.1, 0.2]]})");
  expect_error("rollout --env cartpole --actions " + ok, {"cartpole", "pointmass", "pendulum"});
  expect_error("rollout --frobnicate --actions " + ok, {"--frobnicate"});
  expect_error("rollout --actions " + path("missing.json"), {"missing.json", "--actions"});
  expect_error("rollout --env pendulum --dim 2 --actions " + ok, {"pendulum", "--dim 2"});
  expect_error("rollout --dim 0 --actions " + ok, {"--dim"});
  expect_error("rollout --actions " + file("bad.json", "{\"actions\": [[[1],"),
               {"bad.json", "not valid JSON"});
  expect_error("rollout --actions " + file("nokey.json", R"({"acts": []})"),
               {"\"actions\"", "[T][N][1]"});
  expect_error("rollout --actions " + file("dim.json", R"({"actions": [[[0.5, 1.0]]]})"),
               {"actions[0][0]", "1 numbers", "[T][N][1]"});
  expect_error("rollout --actions " + file("ragged.json", R"({"actions": [[[0.5]], [[1], [2]]]})"),
               {"actions[1]", "must list 1 envs"});
  expect_error("rollout --actions " + file("inf.json", R"({"actions": [[[1e999]]]})"),
               {"inf.json", "not valid JSON", "overflow", "1e999"});
  expect_error("rollout --actions " + file("nan.json", R"({"actions": [[[NaN]]]})"),
               {"nan.json", "not valid JSON"});
  expect_error("rollout --actions " + file("f32.json", R"({"actions": [[[1e39]]]})"),
               {"actions[0][0][0]", "float32"});
  expect_error("rollout --actions " + file("str.json", R"({"actions": [[["x"]]]})"),
               {"actions[0][0][0]", "must be a number"});
  expect_error("rollout --init " + init2 + " --actions " +
                   file("three.json", R"({"actions": [[[0], [0], [0]]]})"),
               {"3 envs", "2 states", "must match"});
  expect_error("rollout --init " + file("s.json", R"({"states": [[0.5]]})") + " --actions " + ok,
               {"states[0]", "2 numbers", "[pos_1..pos_D, vel_1..vel_D]"});
  expect_error("rollout --env pendulum --init " + file("p.json", R"({"states": [[1, 2, 3]]})") +
                   " --actions " + ok,
               {"states[0]", "[theta, theta_dot]"});
  expect_error("rollout --device cuda:7 --actions " + ok, {"cuda:7", "cpu"});
  expect_error("rollout --seed -1 --actions " + ok, {"--seed", "-1"});
  expect_error("rollout --actions " + file("extra.json", R"({"actions": [[[1]]], "steps": 3})"),
               {"unknown key \"steps\"", "\"actions\""});
  expect_error("rollout --device tpu --actions " + ok, {"tpu", "auto, cpu, cuda, cuda:N"});
  // An output directory that does not exist: error, and nothing written anywhere.
  const RunResult r = run_cli("rollout --actions " + ok + " --out " + path("nodir/out.json"));
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.output, HasSubstr("nodir/out.json"));
}

TEST_F(RolloutCliTest, HelpListsFlagsWithDefaults) {
  const RunResult r = run_cli("rollout --help");
  EXPECT_EQ(r.code, 0);
  for (const char* f : {"--env", "=pointmass", "--dim", "--init", "--actions", "--out", "--seed",
                        "--device", "=cpu"}) {
    EXPECT_THAT(r.output, HasSubstr(f));
  }
}

}  // namespace
}  // namespace vecsac
