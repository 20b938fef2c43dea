/// @brief `vecsac sweep`: the --seeds grammar, one-line errors, a tiny sweep and its resume.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "support/cli_test.h"
#include "support/run_cli.h"
#include "support/temp_dir_test.h"
#include "vecsac/cli/sweep.h"
#include "vecsac/io/json_file.h"
#include "vecsac/stats/aggregate.h"

namespace vecsac {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::run_cli;
using SweepCliTest = testing::TempDirTest;

const std::string kTiny =
    testing::tiny_cpu_run({"run.total_timesteps=1500", "sac.learning_starts=300", "env.num_envs=8",
                           "sac.batch_size=32", "sac.buffer_size=2000"});

TEST(SeedListTest, AcceptsRangesListsAndMixesInOrder) {
  EXPECT_THAT(parse_seed_list("0-4"), ElementsAre(0, 1, 2, 3, 4));
  EXPECT_THAT(parse_seed_list("3,1,2"), ElementsAre(3, 1, 2));
  EXPECT_THAT(parse_seed_list("0-2,7"), ElementsAre(0, 1, 2, 7));
  EXPECT_THAT(parse_seed_list("5"), ElementsAre(5));
  EXPECT_THAT(parse_seed_list("9-9"), ElementsAre(9));
  EXPECT_EQ(parse_seed_list("0-9999").size(), 10000u);
  // A range ending at the largest seed must stop there, not wrap around.
  EXPECT_THAT(parse_seed_list("9223372036854775806-9223372036854775807"),
              ElementsAre(INT64_MAX - 1, INT64_MAX));
}

TEST(SeedListTest, RejectsEmptyNegativeDuplicateAndMalformedLists) {
  for (const char* bad : {"",
                          ",",
                          "0,,1",
                          "1,",
                          "-1",
                          "2--1",
                          "-1-3",
                          "3-1",
                          "0-2,1",
                          "1,1",
                          "a",
                          "1-",
                          "-",
                          "1.5",
                          " 1",
                          "1 ",
                          "0x3",
                          "+3",
                          "99999999999999999999",
                          "0-10000"}) {
    try {
      parse_seed_list(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr("--seeds '" + std::string(bad) + "'"));
      EXPECT_THAT(e.what(), HasSubstr("A-B, A,B,C or a mix such as 0-2,7"));
    }
  }
}

TEST_F(SweepCliTest, HelpListsEveryFlagWithDefaults) {
  const auto r = run_cli("sweep --help");
  EXPECT_EQ(r.code, 0);
  for (const char* f :
       {"--config", "pointmass.json", "--set", "--seeds", "--out", "--eval-init", "--resume",
        "--bootstrap-reps", "2000", "--bootstrap-seed", "--population-size"}) {
    EXPECT_THAT(r.output, HasSubstr(f));
  }
}

TEST_F(SweepCliTest, BadFlagsAreOneLineErrors) {
  const std::string out = " --out " + (dir_ / "s").string();
  const std::string init =
      std::string(VECSAC_SOURCE_DIR) + "/configs/eval/pointmass_notebook_starts.json";
  struct Case {
    std::string args;
    std::vector<std::string> fragments;
  };
  const Case cases[] = {
      {"sweep" + out, {"--seeds is required"}},
      {"sweep --seeds 0-2", {"--out is required"}},
      {"sweep --seeds 3-1" + out, {"--seeds '3-1'", "A <= B"}},
      {"sweep --seeds 0-2,1" + out, {"--seeds '0-2,1'", "seed 1 appears twice"}},
      {"sweep --seeds=-1" + out, {"--seeds '-1'", "negative"}},
      {"sweep --seeds 0,,1" + out, {"--seeds '0,,1'", "empty item"}},
      {"sweep --seeds x" + out, {"--seeds 'x'", "not a seed or a range"}},
      {"sweep --seeds 0-1 --set run.seed=3" + out, {"--set run.seed=3", "--seeds"}},
      {"sweep --seeds 0-1 --set sac.tua=1" + out, {"unknown config key 'sac.tua'"}},
      {"sweep --seeds 0-1 --eval-init " + init + " --set run.eval_init=" + init + out,
       {"--eval-init", "keep one"}},
      {"sweep --seeds 0-1 --bootstrap-reps 0" + out, {"--bootstrap-reps"}},
      {"sweep --seeds 0-1 --grid run.seed=1,2" + out, {"--grid 'run.seed=1,2'", "--seeds"}},
      {"sweep --seeds 0-1 --grid sac.batch_size=16,32" + out,
       {"'sac.batch_size' is not a key", "sac.learning_rate"}},
      {"sweep --seeds 0-1 --grid sac.tau" + out, {"--grid 'sac.tau'", "no '='"}},
      {"sweep --seeds 0-1 --grid sac.tau=0.1,,0.2" + out, {"an empty value"}},
      {"sweep --seeds 0-1 --grid sac.tau=0.1,0.1" + out, {"value 0.1 appears twice"}},
      {"sweep --seeds 0-1 --grid sac.tau=0.1 --grid sac.tau=0.2" + out, {"two --grid options"}},
      {"sweep --seeds 0-1 --grid sac.tau=0.1,0.2 --set sac.tau=0.3" + out, {"--set also gives"}},
      {"sweep --seeds 0-1 --grid sac.tau=0.1,7" + out, {"sac.tau"}},
  };
  for (const Case& c : cases) {
    const auto r = run_cli(c.args);
    EXPECT_NE(r.code, 0) << c.args;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << c.args << "\n" << r.output;
    for (const auto& f : c.fragments) EXPECT_THAT(r.output, HasSubstr(f)) << c.args;
  }
  // Nothing was trained or written for any of them.
  EXPECT_FALSE(std::filesystem::exists(dir_ / "s"));
}

TEST_F(SweepCliTest, TinySweepAggregatesTheSeedsEvalsAndResumeSkipsFinishedOnes) {
  const std::filesystem::path out = dir_ / "sweep";
  const std::string args = "sweep --seeds 0,2-3 --out " + out.string() +
                           " --bootstrap-reps 500 --eval-init " + std::string(VECSAC_SOURCE_DIR) +
                           "/configs/eval/pointmass_notebook_starts.json" + kTiny;
  const auto first = run_cli(args);
  ASSERT_EQ(first.code, 0) << first.output;
  EXPECT_THAT(first.output, HasSubstr("IQM"));
  EXPECT_THAT(first.output, HasSubstr("optimality_gap"));

  const std::vector<int64_t> seeds = {0, 2, 3};
  std::vector<double> returns, gaps;
  for (const int64_t s : seeds) {
    const auto run = out / ("seed_" + std::to_string(s));
    for (const char* f :
         {"config.json", "metrics.jsonl", "eval.json", "checkpoints/step_1504.pt"}) {
      EXPECT_TRUE(std::filesystem::exists(run / f)) << run / f;
    }
    EXPECT_EQ(read_json_file(run / "config.json", "config")["run"]["seed"], s);
    const auto eval = read_json_file(run / "eval.json", "eval");
    EXPECT_EQ(eval["returns"].size(), 8u);  // the notebook's 8 starts, from --eval-init
    returns.push_back(eval["mean"]);
    gaps.push_back(eval["optimality_gap"]);
  }
  // The seeds trained differently.
  EXPECT_NE(returns[0], returns[1]);

  const auto agg = read_json_file(out / "aggregate.json", "aggregate");
  EXPECT_EQ(agg["seeds"], nlohmann::json(seeds));
  ASSERT_EQ(agg["runs"].size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(agg["runs"][i]["seed"], seeds[i]);
    EXPECT_EQ(agg["runs"][i]["dir"], (out / ("seed_" + std::to_string(seeds[i]))).string());
    EXPECT_EQ(agg["runs"][i]["mean_return"], returns[i]);
    EXPECT_EQ(agg["runs"][i]["optimality_gap"], gaps[i]);
  }
  EXPECT_EQ(agg["bootstrap"], (nlohmann::json{{"reps", 500}, {"seed", 0}, {"confidence", 0.95}}));
  const stats::BootstrapOptions boot{/*reps=*/500, /*seed=*/0, /*confidence=*/0.95};
  EXPECT_EQ(agg["mean_return"], stats::aggregate(returns, boot).to_json());
  EXPECT_EQ(agg["optimality_gap"], stats::aggregate(gaps, boot).to_json());
  // And by hand: with 3 runs the IQM cuts nothing.
  const double mean = (returns[0] + returns[1] + returns[2]) / 3;
  EXPECT_DOUBLE_EQ(agg["mean_return"]["mean"].get<double>(), mean);
  EXPECT_DOUBLE_EQ(agg["mean_return"]["iqm"].get<double>(), mean);
  EXPECT_EQ(agg["mean_return"]["min"], *std::min_element(returns.begin(), returns.end()));
  EXPECT_EQ(agg["mean_return"]["max"], *std::max_element(returns.begin(), returns.end()));
  EXPECT_LE(agg["mean_return"]["mean_ci"][0].get<double>(), mean);
  EXPECT_GE(agg["mean_return"]["mean_ci"][1].get<double>(), mean);
  // The sweep's shared config: every seed's, less run.seed.
  const auto shared = read_json_file(out / "config.json", "config");
  EXPECT_FALSE(shared["run"].contains("seed"));
  EXPECT_EQ(shared["run"]["total_timesteps"], 1500);

  // A sweep killed after seed 2's last checkpoint, before its eval.json: --resume
  // (config from the sweep directory) skips seeds 0 and 3 and finishes seed 2
  // from its checkpoint, with the same evaluation.
  const auto eval0_time = std::filesystem::last_write_time(out / "seed_0" / "eval.json");
  const auto eval2 = read_json_file(out / "seed_2" / "eval.json", "eval");
  std::filesystem::remove(out / "seed_2" / "eval.json");
  const auto again =
      run_cli("sweep --resume --seeds 0,2-3 --bootstrap-reps 500 --out " + out.string());
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr("seed 0 (1/3): finished"));
  EXPECT_THAT(again.output, HasSubstr("seed 2 (2/3): resuming"));
  EXPECT_THAT(again.output, HasSubstr("resumed from"));
  EXPECT_THAT(again.output, HasSubstr("seed 3 (3/3): finished"));
  EXPECT_EQ(std::filesystem::last_write_time(out / "seed_0" / "eval.json"), eval0_time);
  EXPECT_EQ(read_json_file(out / "seed_2" / "eval.json", "eval"), eval2);
  EXPECT_EQ(read_json_file(out / "aggregate.json", "aggregate"), agg);

  // A changed config is not a finished run: a raised total continues seed 0 from its
  // checkpoint (the --set applies over the sweep's config.json).
  const auto longer =
      run_cli("sweep --resume --seeds 0 --out " + out.string() + " --set run.total_timesteps=1600");
  ASSERT_EQ(longer.code, 0) << longer.output;
  EXPECT_THAT(longer.output, HasSubstr("seed 0 (1/1): resuming"));
  EXPECT_THAT(longer.output, HasSubstr("step_1504.pt at global_step 1504"));
  EXPECT_TRUE(std::filesystem::exists(out / "seed_0" / "checkpoints" / "step_1600.pt"));
  const auto seed0 = read_json_file(out / "seed_0" / "config.json", "config");
  EXPECT_EQ(seed0["run"]["total_timesteps"], 1600);
  EXPECT_EQ(seed0["run"]["eval_init"], shared["run"]["eval_init"]);
  EXPECT_EQ(read_json_file(out / "aggregate.json", "aggregate")["seeds"], nlohmann::json({0}));

  // Any other change would score the old policy under the new settings: refused,
  // naming the key, and the finished seed's eval.json is kept.
  const auto changed =
      run_cli("sweep --resume --seeds 3 --out " + out.string() + " --set sac.tau=0.02");
  EXPECT_NE(changed.code, 0);
  EXPECT_THAT(changed.output, HasSubstr("sac.tau=" + shared["sac"]["tau"].dump()));
  EXPECT_THAT(changed.output, HasSubstr("only run.total_timesteps may change"));
  EXPECT_TRUE(std::filesystem::exists(out / "seed_3" / "eval.json"));
}

// Seeds added to a sweep later join its aggregate; a sweep with other settings
// may not rewrite the directory's shared config.json or aggregate.json.
// --population-size 3 trains the seeds as one population: the same evaluations, configs and
// aggregate as one seed at a time (tests/sac/population_train_test.cpp compares every file).
TEST_F(SweepCliTest, APopulationSweepWritesWhatTheSequentialSweepWrites) {
  const std::string tail = " --bootstrap-reps 200" + kTiny;
  const auto one =
      run_cli("sweep --seeds 0-2 --population-size 1 --out " + (dir_ / "one").string() + tail);
  ASSERT_EQ(one.code, 0) << one.output;
  const auto pop =
      run_cli("sweep --seeds 0-2 --population-size 3 --out " + (dir_ / "pop").string() + tail);
  ASSERT_EQ(pop.code, 0) << pop.output;
  EXPECT_THAT(pop.output, HasSubstr("populations of up to 3 agents"));
  EXPECT_THAT(pop.output, HasSubstr("population: 3 agents, memory about"));
  for (int seed = 0; seed < 3; ++seed) {
    const std::string run = "seed_" + std::to_string(seed);
    for (const char* f : {"eval.json", "config.json"}) {
      EXPECT_EQ(read_json_file(dir_ / "pop" / run / f, f),
                read_json_file(dir_ / "one" / run / f, f))
          << run << "/" << f;
    }
  }
  auto agg = [&](const char* sweep) {
    nlohmann::json a = read_json_file(dir_ / sweep / "aggregate.json", "aggregate");
    for (auto& r : a["runs"]) r.erase("dir");
    return a;
  };
  EXPECT_EQ(agg("pop"), agg("one"));
  const auto bad =
      run_cli("sweep --seeds 0-2 --population-size -1 --out " + (dir_ / "bad").string() + tail);
  EXPECT_NE(bad.code, 0);
  EXPECT_THAT(bad.output, HasSubstr("--population-size"));
}

// --grid: every seed at every point, each point a sweep directory of its own, grid.json
// comparing them; trained as populations, each run equals its sequential twin.
TEST_F(SweepCliTest, AGridTrainsEverySeedAtEveryPointAsPopulations) {
  const std::string tail = " --bootstrap-reps 200" + kTiny;
  const std::filesystem::path out = dir_ / "grid";
  const auto r = run_cli(
      "sweep --seeds 0-1 --grid sac.tau=0.005,0.02 --grid sac.gamma=0.9,0.99 "
      "--population-size 8 --out " +
      out.string() + tail);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("population: 8 agents"));
  const auto grid = read_json_file(out / "grid.json", "grid");
  ASSERT_EQ(grid["points"].size(), 4u);
  EXPECT_EQ(grid["seeds"], nlohmann::json({0, 1}));
  const std::vector<std::string> names = {
      "sac.tau=0.005,sac.gamma=0.9", "sac.tau=0.005,sac.gamma=0.99", "sac.tau=0.02,sac.gamma=0.9",
      "sac.tau=0.02,sac.gamma=0.99"};
  for (size_t i = 0; i < names.size(); ++i) {
    const auto& point = grid["points"][i];
    EXPECT_EQ(point["name"], names[i]);
    const std::filesystem::path dir = out / names[i];
    const auto agg = read_json_file(dir / "aggregate.json", "aggregate");
    EXPECT_EQ(point["mean_return"], agg["mean_return"]);
    EXPECT_EQ(agg["seeds"], nlohmann::json({0, 1}));
    for (int seed = 0; seed < 2; ++seed) {
      const auto config =
          read_json_file(dir / ("seed_" + std::to_string(seed)) / "config.json", "config");
      EXPECT_EQ(config["sac"]["tau"], i < 2 ? 0.005 : 0.02);
      EXPECT_EQ(config["sac"]["gamma"], i % 2 == 0 ? 0.9 : 0.99);
      EXPECT_EQ(config["run"]["seed"], seed);
    }
  }
  // The directory holds this grid: a plain sweep or another grid into it is refused, and so
  // is a grid into a plain sweep's directory.
  const auto plain = run_cli("sweep --seeds 2 --out " + out.string() + tail);
  EXPECT_NE(plain.code, 0);
  EXPECT_THAT(plain.output, HasSubstr("holds a grid sweep"));
  const auto other =
      run_cli("sweep --seeds 2 --grid sac.tau=0.005,0.02 --out " + out.string() + tail);
  EXPECT_NE(other.code, 0);
  EXPECT_THAT(other.output, HasSubstr("holds a grid sweep"));
  EXPECT_FALSE(std::filesystem::exists(out / "seed_2"));
  // A learned and a fixed temperature cannot share an engine: they train as two populations.
  const auto mixed = run_cli(
      "sweep --seeds 0-1 --grid sac.ent_coef=auto,0.1 --population-size 4 "
      "--out " +
      (dir_ / "mixed").string() + tail);
  ASSERT_EQ(mixed.code, 0) << mixed.output;
  EXPECT_EQ(read_json_file(dir_ / "mixed" / "grid.json", "grid")["points"].size(), 2u);
  // One point swept alone, one seed at a time, gives that point's runs exactly.
  const auto alone = run_cli(
      "sweep --seeds 0-1 --set sac.tau=0.02 --set sac.gamma=0.9 "
      "--population-size 1 --out " +
      (dir_ / "alone").string() + tail);
  ASSERT_EQ(alone.code, 0) << alone.output;
  const auto into_plain =
      run_cli("sweep --seeds 0 --grid sac.tau=0.1,0.2 --out " + (dir_ / "alone").string() + tail);
  EXPECT_NE(into_plain.code, 0);
  EXPECT_THAT(into_plain.output, HasSubstr("a grid needs a new --out"));
  for (int seed = 0; seed < 2; ++seed) {
    const std::string run = "seed_" + std::to_string(seed);
    EXPECT_EQ(read_json_file(out / names[2] / run / "eval.json", "eval"),
              read_json_file(dir_ / "alone" / run / "eval.json", "eval"));
  }
}

TEST_F(SweepCliTest, LaterSeedsJoinTheAggregateAndOtherSettingsAreRefused) {
  const std::filesystem::path out = dir_ / "grow";
  const std::string tail = " --bootstrap-reps 200 --out " + out.string() + kTiny;
  const auto first = run_cli("sweep --seeds 0" + tail);
  ASSERT_EQ(first.code, 0) << first.output;
  const auto second = run_cli("sweep --seeds 2,1" + tail);
  ASSERT_EQ(second.code, 0) << second.output;
  const auto agg = read_json_file(out / "aggregate.json", "aggregate");
  EXPECT_EQ(agg["seeds"], nlohmann::json({2, 1, 0}));
  ASSERT_EQ(agg["runs"].size(), 3u);
  const double seed0 = read_json_file(out / "seed_0" / "eval.json", "eval")["mean"];
  EXPECT_EQ(agg["runs"][2]["mean_return"], seed0);
  std::vector<double> returns;
  for (const auto& run : agg["runs"]) returns.push_back(run["mean_return"]);
  EXPECT_DOUBLE_EQ(agg["mean_return"]["mean"].get<double>(),
                   (returns[0] + returns[1] + returns[2]) / 3);

  const auto config = read_json_file(out / "config.json", "config");
  const auto other = run_cli("sweep --seeds 3 --set sac.tau=0.02" + tail);
  EXPECT_NE(other.code, 0);
  EXPECT_THAT(other.output, HasSubstr("holds a sweep with sac.tau=" + config["sac"]["tau"].dump() +
                                      ", now 0.02"));
  EXPECT_THAT(other.output, HasSubstr("use a new --out"));
  EXPECT_FALSE(std::filesystem::exists(out / "seed_3"));
  EXPECT_EQ(read_json_file(out / "config.json", "config"), config);
  EXPECT_EQ(read_json_file(out / "aggregate.json", "aggregate"), agg);

  // A sweep written before env.action_repeat existed still takes new seeds, and a
  // copy named unlike the sweep's own directories (seed_00) is not counted.
  for (const auto& file : {out / "config.json", out / "seed_0" / "config.json"}) {
    auto doc = read_json_file(file, "config");
    doc["env"].erase("action_repeat");
    std::ofstream(file) << doc.dump(2);
  }
  std::filesystem::copy(out / "seed_0", out / "seed_00", std::filesystem::copy_options::recursive);
  const auto third = run_cli("sweep --seeds 3" + tail);
  ASSERT_EQ(third.code, 0) << third.output;
  EXPECT_EQ(read_json_file(out / "aggregate.json", "aggregate")["seeds"],
            nlohmann::json({3, 0, 1, 2}));
}

}  // namespace
}  // namespace vecsac
