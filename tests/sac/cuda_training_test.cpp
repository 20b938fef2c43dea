/// @brief Training on CUDA: the loop is sync-free under sync-debug, resumes, and its
/// checkpoint evaluates on the CPU (skipped without a GPU, as CI has none).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/cuda_gpu.h"
#include "support/temp_dir_test.h"
#include "support/tiny_config.h"
#include "vecsac/env/point_mass.h"
#include "vecsac/io/json_file.h"
#include "vecsac/sac/checkpoint.h"
#include "vecsac/sac/population.h"
#include "vecsac/sac/trainer.h"
#include "vecsac/util/generator.h"
#include "vecsac/util/seed_purpose.h"
#include "vecsac/util/sync_debug.h"

namespace vecsac {
namespace {

namespace fs = std::filesystem;

// Sizes a multiple of 16 envs, so log and eval points fall on vector steps.
Config cuda_config(int64_t total) {
  Config c = testing::tiny_config(total);
  c.env.num_envs = 16;
  c.sac.batch_size = 64;
  c.sac.learning_starts = 160;
  c.run.log_interval = 320;
  c.run.eval_freq = 640;  // periodic evaluations run between hot-loop scopes
  c.run.eval_episodes = 4;
  c.run.device = "cuda";
  return c;
}

// Without this, a passing sync-debug run would prove nothing.
TEST(SyncDebugCudaTest, AHostSyncInsideTheScopeThrows) {
  VECSAC_REQUIRE_CUDA_GPU();
  const at::Tensor x = at::ones({4}, at::TensorOptions().device(c10::kCUDA));
  {
    const SyncDebugScope scope(true);
    EXPECT_ANY_THROW((void)x.sum().item<float>());
  }
  EXPECT_FLOAT_EQ(x.sum().item<float>(), 4.0f) << "the scope's end turns the check off";
}

using CudaTrainingTest = testing::TempDirTest;

TEST_F(CudaTrainingTest, TrainsUnderSyncDebugResumesAndItsActorEvaluatesOnTheCpu) {
  VECSAC_REQUIRE_CUDA_GPU();
  TrainOptions opt;
  opt.out_dir = dir_;
  opt.quiet = true;
  opt.sync_debug = true;  // any host sync in the hot loop throws
  const TrainResult first = train(cuda_config(1280), opt);
  EXPECT_EQ(first.global_step, 1280);

  opt.resume = true;
  const Config config = cuda_config(1920);
  const TrainResult r = train(config, opt);
  EXPECT_EQ(r.global_step, 1920);
  ASSERT_EQ(r.final_eval.returns.size(), 4u);

  int lines = 0;
  std::ifstream metrics(dir_ / "metrics.jsonl");
  for (std::string line; std::getline(metrics, line); ++lines) {
    const auto j = nlohmann::json::parse(line);
    for (const char* key : {"losses/qf_loss", "losses/actor_loss", "charts/q_mean"}) {
      if (!j.at(key).is_null()) EXPECT_TRUE(std::isfinite(j.at(key).get<double>())) << line;
    }
  }
  EXPECT_EQ(lines, 6) << "one line per 320 steps across the resume";

  // The run's actor, loaded on the CPU, drives the same (counter-based) starts to
  // the same returns: GEMM rounding differs between devices, so not bit for bit.
  const fs::path ckpt = list_checkpoints(dir_).front();
  const EnvParams params = env_params_of(config, kEvalEnvSeed);
  Actor actor(2, 1, config.sac.pi_arch, PointMass::kActionLimit,
              make_generator(c10::Device(c10::kCPU), 0));
  load_actor(ckpt, actor, c10::Device(c10::kCPU));
  const EvalResult on_cpu = evaluate(actor, params, 4, c10::Device(c10::kCPU));
  for (size_t i = 0; i < 4; ++i) {
    const double g = r.final_eval.returns[i], h = on_cpu.returns[i];
    EXPECT_TRUE(std::isfinite(g)) << "episode " << i;
    EXPECT_NEAR(h, g, 1e-3 * std::abs(g) + 1e-3) << "episode " << i;
  }
}

// A population of three on CUDA under sync-debug: its hot loop (acting, the env step, the
// insert, the replay draw and the update, each once for all agents) waits for nothing; each agent's
// run directory is complete, and its checkpoint's actor evaluates on the CPU to what the
// run's final evaluation gave on the GPU.
TEST_F(CudaTrainingTest, APopulationTrainsUnderSyncDebugAndEachAgentEvaluatesOnTheCpu) {
  VECSAC_REQUIRE_CUDA_GPU();
  std::vector<PopulationMember> members;
  for (int i = 0; i < 3; ++i) {
    Config c = cuda_config(1280);
    c.run.seed = static_cast<uint64_t>(i);
    c.sac.tau = 0.005 * (i + 1);  // a per-agent key
    TrainOptions opt;
    opt.out_dir = dir_ / ("agent_" + std::to_string(i));
    opt.quiet = true;
    opt.sync_debug = true;
    members.push_back({c, opt});
  }
  const std::vector<TrainResult> results = train_population(members);
  ASSERT_EQ(results.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE("agent " + std::to_string(i));
    const fs::path dir = members[i].options.out_dir;
    EXPECT_EQ(results[i].global_step, 1280);
    for (const char* f : {"config.json", "metrics.jsonl", "evals.jsonl", "eval.json"}) {
      EXPECT_TRUE(fs::exists(dir / f)) << f;
    }
    const Config& config = members[i].config;
    Actor actor(2, 1, config.sac.pi_arch, PointMass::kActionLimit,
                make_generator(c10::Device(c10::kCPU), 0));
    load_actor(list_checkpoints(dir).front(), actor, c10::Device(c10::kCPU));
    const EvalResult on_cpu =
        evaluate(actor, env_params_of(config, kEvalEnvSeed), 4, c10::Device(c10::kCPU));
    // The periodic evaluation at the last step, batched over the agents through the engine,
    // scored the same actor on the same starts as the final one (the actor module).
    std::ifstream evals(dir / "evals.jsonl");
    std::string line, last;
    while (std::getline(evals, line)) last = line;
    const nlohmann::json periodic = nlohmann::json::parse(last);
    ASSERT_EQ(periodic.at("global_step").get<int64_t>(), 1280);
    const auto batched = periodic.at("eval/returns").get<std::vector<double>>();
    ASSERT_EQ(batched.size(), 4u);
    for (size_t e = 0; e < 4; ++e) {
      const double g = results[i].final_eval.returns[e], h = on_cpu.returns[e];
      EXPECT_TRUE(std::isfinite(g)) << "episode " << e;
      EXPECT_NEAR(h, g, 1e-3 * std::abs(g) + 1e-3) << "episode " << e;
      EXPECT_NEAR(batched[e], g, 1e-3 * std::abs(g) + 1e-3) << "episode " << e;
    }
  }
  EXPECT_NE(results[0].final_eval.mean, results[1].final_eval.mean) << "the agents differ";
}

}  // namespace
}  // namespace vecsac
