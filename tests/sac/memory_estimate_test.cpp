#include "vecsac/sac/memory_estimate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>

#include "../support/temp_dir_test.h"
#include "../support/tiny_config.h"
#include "vecsac/replay/replay_buffer.h"
#include "vecsac/sac/learner.h"
#include "vecsac/sac/trainer.h"

namespace vecsac {
namespace {

const c10::Device kCpu(c10::kCPU);

const MemoryItem& item(const std::vector<MemoryItem>& items, const std::string& what) {
  for (const auto& i : items) {
    if (i.what == what) return i;
  }
  throw std::runtime_error("no item " + what);
}

double nbytes(std::initializer_list<at::Tensor> ts) {
  double b = 0;
  for (const auto& t : ts) b += static_cast<double>(t.nbytes());
  return b;
}

TEST(MemoryEstimate, TheReplayBufferIsExactAndTheNetworksCoverTheirParametersFiveTimes) {
  Config c = testing::tiny_config(100);
  c.sac.pi_arch = {48, 32};
  c.sac.qf_arch = {24, 24, 16};
  c.sac.buffer_size = 300;
  const int64_t obs = 2, act = 1;
  const auto items = estimate_memory(c, obs, act, 2, 8);
  ReplayBuffer replay(c.sac.buffer_size, obs, act, kCpu);
  const Batch b = replay.storage();
  EXPECT_EQ(item(items, "replay buffer").bytes,
            nbytes({b.obs, b.act, b.reward, b.next_obs, b.terminated}));
  EXPECT_EQ(item(items, "replay buffer").key, "sac.buffer_size=300");

  SacLearner learner(c.sac, obs, act, 1.0, kCpu, 0);
  double actor = 0, critic = 0;
  for (const auto& p : learner.actor->parameters()) actor += static_cast<double>(p.nbytes());
  for (const auto& p : learner.critic->parameters()) critic += static_cast<double>(p.nbytes());
  // weights, gradients, two Adam moments and one copy of each (target, selected actor)
  EXPECT_EQ(item(items, "networks and optimizer state").bytes, 5 * (actor + critic));
}

TEST(MemoryEstimate, EachPartGrowsWithTheKeyThatNamesIt) {
  const Config c = testing::tiny_config(100);
  const auto base = estimate_memory(c, 2, 1, 2, 8);
  const std::pair<std::string, std::function<void(Config&)>> changes[] = {
      {"environments and acting", [](Config& x) { x.env.num_envs *= 10; }},
      {"update activations", [](Config& x) { x.sac.batch_size *= 10; }},
      {"selection envs", [](Config& x) { x.run.select_episodes = 1000; }},
  };
  for (const auto& [what, change] : changes) {
    Config bigger = c;
    change(bigger);
    const auto items = estimate_memory(bigger, 2, 1, 2, 8);
    EXPECT_GT(total_bytes(items), total_bytes(base)) << what;
    EXPECT_GT(item(items, what).bytes, 0) << what;
  }
  EXPECT_GT(item(estimate_memory(c, 2, 1, 2, 80000), "evaluation envs").bytes,
            1000 * item(base, "evaluation envs").bytes);
}

TEST(MemoryEstimate, ARunThatDoesNotFitIsRefusedNamingTheLargestParts) {
  Config c = testing::tiny_config(100);
  c.sac.buffer_size = int64_t{1} << 40;
  const auto items = estimate_memory(c, 2, 1, 2, 8);
  EXPECT_EQ(items.front().what, "replay buffer");  // largest first
  EXPECT_NO_THROW(check_memory_fits(items, 1e18, "cpu"));
  try {
    check_memory_fits(items, 20.0 * (1 << 30), "cpu");
    FAIL() << "a 28 TiB replay buffer must not fit in 20 GiB";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(),
                ::testing::HasSubstr("needs about 28.0 TiB but cpu has 20.0 GiB available: "
                                     "replay buffer 28.0 TiB (sac.buffer_size=1099511627776)"));
    EXPECT_THAT(e.what(), ::testing::Not(::testing::HasSubstr("networks")));
  }
}

TEST(MemoryEstimate, BytesReadAsPeopleWriteThem) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(3.0 * (1 << 30)), "3.0 GiB");
  EXPECT_EQ(format_bytes(std::ldexp(1.0, 70)), "1024.0 EiB");  // no unit past EiB
}

using MemoryCheckTest = testing::TempDirTest;

// run.eval_episodes passes validation at any size; before this check a billion of them failed
// after the whole training, with the allocator's message.
TEST_F(MemoryCheckTest, TrainRefusesBeforeWritingAnythingNamingTheKey) {
  Config c = testing::tiny_config(100);
  c.run.eval_episodes = 1000000000;
  TrainOptions opt;
  opt.out_dir = dir_ / "run";
  opt.quiet = true;
  try {
    train(c, opt);
    FAIL() << "a billion evaluation envs must not fit";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("evaluation envs"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("(run.eval_episodes=1000000000)"));
  }
  EXPECT_FALSE(std::filesystem::exists(opt.out_dir / "config.json"));
}

}  // namespace
}  // namespace vecsac
