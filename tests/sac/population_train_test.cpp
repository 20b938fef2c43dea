/// @brief Population training on the CPU: agent k of a population is the single run with its
/// config, file for file, through stops and resumes; conflicts and memory are refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/read_bytes.h"
#include "support/temp_dir_test.h"
#include "support/tiny_config.h"
#include "vecsac/config/load_config.h"
#include "vecsac/env/vec_env_ops.h"
#include "vecsac/sac/checkpoint.h"
#include "vecsac/sac/memory_estimate.h"
#include "vecsac/sac/population.h"
#include "vecsac/sac/training_run.h"
#include "vecsac/util/cpu_pool.h"
#include "vecsac/util/device.h"
#include "vecsac/util/stop_signal.h"

namespace vecsac {
namespace {

namespace fs = std::filesystem;
using testing::read_bytes;
using PopulationTrainTest = testing::TempDirTest;

// Three agents that differ in every kind of per-agent key: seeds, tau and gamma, a linear
// learning-rate schedule, a temperature start, a target entropy and critic weights.
std::vector<Config> agent_configs(int64_t total) {
  Config c = testing::tiny_config(total);
  c.run.eval_freq = 400;
  c.run.select_episodes = 3;
  c.run.checkpoint_interval = 400;
  std::vector<Config> configs(3, c);
  configs[0].run.seed = 0;
  configs[1].run.seed = 1;
  configs[1].sac.tau = 0.01;
  configs[1].sac.gamma = 0.95;
  configs[2].run.seed = 7;
  configs[2].sac.learning_rate = 1e-3;
  configs[2].sac.learning_rate_linear = true;
  configs[2].sac.ent_coef = {.learned = true, .initial = 0.5};
  configs[2].sac.target_entropy = -0.5;
  configs[2].sac.critic_weight_offset = 1;
  for (const Config& config : configs) validate(config);
  return configs;
}

std::vector<PopulationMember> members(const std::vector<Config>& configs, const fs::path& dir) {
  std::vector<PopulationMember> m;
  for (size_t i = 0; i < configs.size(); ++i) {
    TrainOptions opt;
    opt.out_dir = dir / ("agent_" + std::to_string(i));
    opt.quiet = true;
    m.push_back({configs[i], opt});
  }
  return m;
}

// A JSON-lines log without its wall-clock fields, which no two runs share.
std::vector<nlohmann::json> log_without_times(const fs::path& file) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    nlohmann::json j = nlohmann::json::parse(line);
    for (const char* key : {"time_s", "train_time_s", "charts/SPS"}) j.erase(key);
    lines.push_back(j);
  }
  return lines;
}

// Everything a run leaves but its clocks: logs, final eval, config and the checkpoints,
// byte for byte (networks, optimizer moments, replay, envs, generators, counters).
void expect_same_run(const fs::path& got, const fs::path& want) {
  SCOPED_TRACE(got.string() + " vs " + want.string());
  for (const char* log : {"metrics.jsonl", "evals.jsonl"}) {
    const auto g = log_without_times(got / log), w = log_without_times(want / log);
    ASSERT_FALSE(w.empty()) << log;
    EXPECT_EQ(g, w) << log;
  }
  EXPECT_EQ(read_bytes(got / "eval.json"), read_bytes(want / "eval.json"));
  EXPECT_EQ(read_bytes(got / "config.json"), read_bytes(want / "config.json"));
  const auto g = list_checkpoints(got), w = list_checkpoints(want);
  ASSERT_EQ(g.size(), w.size());
  ASSERT_FALSE(w.empty());
  for (size_t i = 0; i < w.size(); ++i) {
    EXPECT_EQ(g[i].filename(), w[i].filename());
    EXPECT_TRUE(read_bytes(g[i]) == read_bytes(w[i])) << g[i] << " differs from " << w[i];
  }
}

void train_alone(const std::vector<Config>& configs, const fs::path& dir) {
  for (const auto& m : members(configs, dir)) train(m.config, m.options);
}

// 1200 transitions of 4 envs, 2 gradient steps per vector step from step 64: 568 updates,
// 3 evaluations and 3 checkpoints per agent. Equality is exact: each agent's envs, replay
// and generators are its own, and the engine's batched GEMMs and kernels compute each
// agent's rows as a single engine does (tests/sac/population_update_test.cpp).
TEST_F(PopulationTrainTest, AgentKIsTheSingleRunWithItsConfigFileForFile) {
  const auto configs = agent_configs(1200);
  train_alone(configs, dir_ / "alone");
  // Every layout: an engine per agent taken in turns by 2 worker threads or 1 (the CPU's
  // choice), one engine for all with each op on 2 threads or 1 (a GPU's, and the CPU's with
  // fewer agents than threads), and engines of 1 and 2 agents in turns.
  const int threads = cpu_threads();
  for (const auto& [t, engines] : {std::pair{2, 0}, {1, 0}, {2, 1}, {1, 1}, {2, 2}}) {
    const std::string layout =
        std::to_string(t) + " threads, " + std::to_string(engines) + " engines";
    SCOPED_TRACE(layout);
    set_cpu_threads(t);
    const fs::path root = dir_ / layout;
    const std::vector<TrainResult> results = train_population(members(configs, root), engines);
    ASSERT_EQ(results.size(), configs.size());
    for (size_t i = 0; i < configs.size(); ++i) {
      const std::string agent = "agent_" + std::to_string(i);
      expect_same_run(root / agent, dir_ / "alone" / agent);
      EXPECT_EQ(results[i].global_step, 1200);
    }
  }
  set_cpu_threads(threads);
  // The agents' settings reached them: their results differ from each other.
  EXPECT_NE(read_bytes(dir_ / "alone/agent_0/eval.json"),
            read_bytes(dir_ / "alone/agent_1/eval.json"));
}

// The main job's shapes (configs/pointmass.json: 64 envs, batch 128, a 96-96 actor and 64-64
// critics, relative critic weights, a linear schedule), shortened, with five agents: ten
// critics in one call, more than the CPU GEMM once took in its own kernels, and five times
// a single run's FLOPs. Each agent's GEMMs must still run the kernel its single run uses
// (cpu_gemm.cpp chooses per member), or they round differently and the runs drift apart.
TEST_F(PopulationTrainTest, AtTheMainJobsShapesFiveAgentsAreFiveSingleRuns) {
  std::vector<Config> configs;
  for (int seed = 0; seed < 5; ++seed) {
    configs.push_back(
        load_config(std::string(VECSAC_SOURCE_DIR) + "/configs/pointmass.json",
                    {"run.total_timesteps=2048", "sac.learning_starts=256", "run.eval_freq=1024",
                     "run.select_episodes=8", "run.eval_episodes=8", "run.log_interval=512",
                     "run.checkpoint_interval=1024", "run.device=\"cpu\"",
                     "run.seed=" + std::to_string(seed)}));
  }
  train_alone(configs, dir_ / "alone");
  train_population(members(configs, dir_ / "population"));
  for (size_t i = 0; i < configs.size(); ++i) {
    const std::string agent = "agent_" + std::to_string(i);
    expect_same_run(dir_ / "population" / agent, dir_ / "alone" / agent);
  }
}

// Trains the population until agent `stopper` asks it to stop at step 612 (between log
// points), then sets every member to resume. Returns the step at which all stopped: 612 with
// one engine; with an engine per agent another agent may be up to two turns ahead (a turn may start
// one turn ahead of the slowest, IterationScheduler) and the others catch up to it. Every member's
// newest checkpoint is of that step.
int64_t stop_at_612(std::vector<PopulationMember>& m, size_t stopper, int64_t engines = 0) {
  m[stopper].options.after_iteration = [](int64_t step) {
    if (step == 612) request_stop(SIGTERM);
  };
  int64_t stopped_at = -1;
  try {
    train_population(m, engines);
    ADD_FAILURE() << "the stop request must stop the population";
  } catch (const StopRequested& e) {
    stopped_at = e.global_step;
  }
  request_stop(0);
  EXPECT_GE(stopped_at, 612);
  const Config& c = m.front().config;
  EXPECT_LE(stopped_at, 612 + 2 * population_turn(c.sac) * c.env.num_envs)
      << "at most two turns past the stop";
  if (engines == 1) EXPECT_EQ(stopped_at, 612) << "one engine trains in lockstep";
  for (auto& member : m) {
    EXPECT_EQ(checkpoint_step(list_checkpoints(member.options.out_dir).front()), stopped_at);
    member.options.after_iteration = nullptr;
    member.options.resume = true;
  }
  return stopped_at;
}

// A stop between log points checkpoints every agent at the same step; resuming the
// population from there finishes each run as a straight single run.
TEST_F(PopulationTrainTest, AStoppedPopulationResumesToTheStraightRuns) {
  const auto configs = agent_configs(1200);
  train_alone(configs, dir_ / "alone");
  auto m = members(configs, dir_ / "population");
  const int64_t stopped_at = stop_at_612(m, 1);
  // Agent 2 one checkpoint behind (as if killed before writing it): all resume from the
  // checkpoint before (400, or 800 when the stop came after it).
  fs::remove(checkpoint_path(m[2].options.out_dir, stopped_at));
  train_population(m);
  for (size_t i = 0; i < configs.size(); ++i) {
    const std::string agent = "agent_" + std::to_string(i);
    expect_same_run(dir_ / "population" / agent, dir_ / "alone" / agent);
  }
}

// Agent 1's newest checkpoint is damaged: the population resumes every agent from the newest
// step at which all their files read back whole, before loading any. A file that passes that
// check and still fails to load (here one cut back to an older format's shape, no trailer)
// shows only when it loads, after the others have resumed at the stop: all go back to the one
// before then, in the same command. Either way each run ends as the straight single run.
TEST_F(PopulationTrainTest, ADamagedNewestCheckpointOfOneAgentResumesAllFromTheOlderOne) {
  const auto configs = agent_configs(1200);
  train_alone(configs, dir_ / "alone");
  for (const bool trailer_cut : {false, true}) {
    SCOPED_TRACE(trailer_cut ? "trailer cut" : "a byte flipped");
    const fs::path root = dir_ / (trailer_cut ? "cut" : "flipped");
    auto m = members(configs, root);
    const int64_t stopped_at = stop_at_612(m, 0, /*engines=*/1);
    const fs::path damaged = checkpoint_path(m[1].options.out_dir, stopped_at);
    std::string bytes = testing::read_bytes(damaged);
    if (trailer_cut) {
      bytes.resize(bytes.size() - 20);  // the trailer: 8-byte magic, 8-byte length, CRC
    } else {
      bytes[bytes.size() / 2] ^= 0x5a;
    }
    std::ofstream(damaged, std::ios::binary | std::ios::trunc) << bytes;
    EXPECT_EQ(checkpoint_intact(damaged), trailer_cut);
    ::testing::internal::CaptureStderr();
    train_population(m);
    const std::string err = ::testing::internal::GetCapturedStderr();
    // Only the file that passes the check is loaded, fails and is skipped.
    EXPECT_EQ(err.find("skipping") != std::string::npos, trailer_cut) << err;
    for (size_t i = 0; i < configs.size(); ++i) {
      const std::string agent = "agent_" + std::to_string(i);
      expect_same_run(root / agent, dir_ / "alone" / agent);
    }
  }
}

// A worker's exception (here agent 1's callback at step 700, as a crash would) ends the
// population without a last checkpoint, like a kill. With a checkpoint every 16 steps, far
// less than the two turns of 32 iterations (128 steps) an agent may run ahead, the agents
// still share a checkpoint step (each waits at every checkpoint for the others), and the
// population resumes from it to the straight single runs.
TEST_F(PopulationTrainTest, AfterAWorkersExceptionTheAgentsShareACheckpointAndResume) {
  auto configs = agent_configs(1200);
  for (Config& c : configs) c.run.checkpoint_interval = 16;
  train_alone(configs, dir_ / "alone");
  auto m = members(configs, dir_ / "population");
  m[1].options.after_iteration = [](int64_t step) {
    if (step == 700) throw std::runtime_error("agent 1 failed at 700");
  };
  EXPECT_THAT([&] { train_population(m); },
              ::testing::ThrowsMessage<std::runtime_error>(::testing::HasSubstr("failed at 700")));
  for (auto& member : m) {
    member.options.after_iteration = nullptr;
    member.options.resume = true;
  }
  train_population(m);
  for (size_t i = 0; i < configs.size(); ++i) {
    const std::string agent = "agent_" + std::to_string(i);
    expect_same_run(dir_ / "population" / agent, dir_ / "alone" / agent);
  }
}

TEST_F(PopulationTrainTest, AgentsThatDifferInAShapeOrTheTemperatureKindAreRefused) {
  auto configs = agent_configs(400);
  configs[1].sac.batch_size = 16;
  try {
    train_population(members(configs, dir_));
    FAIL() << "different batch sizes cannot share an engine";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("agent 1"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("sac.batch_size=32, now 16"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("sac.learning_rate"));  // what may differ
  }
  configs = agent_configs(400);
  configs[2].sac.ent_coef = {.learned = false, .initial = 0.2};
  EXPECT_THAT(population_conflict(configs[0], configs[2]),
              ::testing::HasSubstr("a learned and a fixed temperature"));
  EXPECT_EQ(population_conflict(configs[0], configs[1]), "");
  EXPECT_FALSE(fs::exists(dir_ / "agent_0" / "config.json")) << "refused before writing";
}

// Evaluation envs sized so that one agent takes 60% of the memory available: two are
// refused before anything is allocated or written, with how many would fit.
TEST_F(PopulationTrainTest, APopulationThatDoesNotFitSaysHowManyAgentsWould) {
  auto configs = agent_configs(400);
  configs.resize(2);
  const Config& c = configs[0];
  const EnvParams p = env_params_of(c, 0);
  auto bytes = [&](int64_t episodes) {
    return total_bytes(
        estimate_memory(c, env_obs_dim(p), env_act_dim(p), env_state_dim(p), episodes));
  };
  const double per_episode = (bytes(2'000'000) - bytes(1'000'000)) / 1e6;
  const double target = 0.6 * available_memory(c10::Device(c10::kCPU));
  const auto episodes = static_cast<int64_t>((target - bytes(0)) / per_episode);
  for (Config& config : configs) config.run.eval_episodes = episodes;
  try {
    train_population(members(configs, dir_));
    FAIL() << "two agents of 60% each must not fit";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("a population of 2 agents needs about"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr(": 1 agents fit"));
  }
  EXPECT_FALSE(fs::exists(dir_ / "agent_0" / "config.json"));
  EXPECT_EQ(population_capacity(configs[0]), 1) << "what a sweep's automatic size takes";

  // Starts from run.eval_init size the evaluation envs, not run.eval_episodes.
  Config with_starts = agent_configs(400)[0];
  with_starts.run.eval_episodes = 1;
  nlohmann::json states = nlohmann::json::array();
  for (int i = 0; i < 3000; ++i) {
    states.push_back(std::vector<double>(static_cast<size_t>(env_state_dim(p)), 0.1));
  }
  std::ofstream(dir_ / "starts.json") << nlohmann::json{{"states", states}}.dump();
  with_starts.run.eval_init = (dir_ / "starts.json").string();
  EXPECT_EQ(eval_episode_count(with_starts), 3000);
  EXPECT_EQ(total_bytes(run_memory(with_starts, eval_episode_count(with_starts))), bytes(3000));
  EXPECT_GT(bytes(3000), bytes(1));
}

}  // namespace
}  // namespace vecsac
