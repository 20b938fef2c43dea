/// @brief Training on CUDA: the loop is sync-free under sync-debug, resumes, and its
/// checkpoint evaluates on the CPU (skipped without a GPU, as CI has none).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "support/cuda_gpu.h"
#include "support/temp_dir_test.h"
#include "support/tiny_config.h"
#include "vecsac/env/point_mass.h"
#include "vecsac/io/json_file.h"
#include "vecsac/sac/checkpoint.h"
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

}  // namespace
}  // namespace vecsac
