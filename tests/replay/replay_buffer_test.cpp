/// @brief ReplayBuffer: wrap-around, uniform sampling, footprint refusal.
#include "vecsac/replay/replay_buffer.h"

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "vecsac/util/generator.h"

namespace vecsac {
namespace {

const c10::Device kCpu(c10::kCPU);

// Transition k carries k in every field, so storage and samples show which it is.
void add_range(ReplayBuffer& rb, int64_t first, int64_t n) {
  const at::Tensor k = at::arange(first, first + n, at::kFloat);
  rb.add(k.unsqueeze(1).repeat({1, 2}), k.unsqueeze(1), k, k.unsqueeze(1).repeat({1, 2}) + 0.5,
         (k.fmod(2) == 0).to(at::kFloat));
}

TEST(ReplayBufferTest, WrapsAroundKeepingTheNewestTransitions) {
  ReplayBuffer rb(/*capacity=*/10, /*obs_dim=*/2, /*act_dim=*/1, kCpu);
  add_range(rb, 0, 4);
  EXPECT_EQ(rb.size(), 4);
  EXPECT_EQ(rb.cursor(), 4);
  add_range(rb, 4, 4);
  add_range(rb, 8, 4);  // 8, 9 fill the end; 10, 11 overwrite slots 0, 1
  EXPECT_EQ(rb.size(), 10);
  EXPECT_EQ(rb.cursor(), 2);
  const Batch s = rb.storage();
  const std::vector<float> want{10, 11, 2, 3, 4, 5, 6, 7, 8, 9};
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(s.reward[i].item<float>(), want[i]) << i;
    EXPECT_EQ(s.obs[i][1].item<float>(), want[i]) << i;
    EXPECT_EQ(s.next_obs[i][0].item<float>(), want[i] + 0.5f) << i;
    EXPECT_EQ(s.terminated[i].item<float>(), float(int(want[i]) % 2 == 0)) << i;
  }
  add_range(rb, 12, 10);  // a full-capacity insert across the wrap
  EXPECT_EQ(rb.cursor(), 2);
  EXPECT_EQ(rb.storage().reward[1].item<float>(), 21.0f);
}

TEST(ReplayBufferTest, SamplesUniformlyFromTheFilledPartOnly) {
  ReplayBuffer rb(100, 2, 1, kCpu);
  add_range(rb, 0, 40);
  at::Generator gen = make_generator(kCpu, 9);
  constexpr int kDraws = 200000;
  const Batch b = rb.sample(kDraws, gen);
  EXPECT_EQ(b.obs.sizes(), (at::IntArrayRef{kDraws, 2}));
  // Rows stay consistent across fields.
  EXPECT_TRUE(at::equal(b.reward, b.act.squeeze(1)));
  EXPECT_TRUE(at::equal(b.next_obs.select(1, 0), b.reward + 0.5));
  const at::Tensor counts = at::bincount(b.reward.to(at::kLong), {}, 100);
  EXPECT_EQ(counts.narrow(0, 40, 60).sum().item<int64_t>(), 0) << "never an empty slot";
  // Each of 40 slots: binomial(200000, 1/40), mean 5000, sd ~69; 6 sd bounds.
  EXPECT_GT(counts.narrow(0, 0, 40).min().item<int64_t>(), 5000 - 420);
  EXPECT_LT(counts.narrow(0, 0, 40).max().item<int64_t>(), 5000 + 420);
}

TEST(ReplayBufferTest, RefusesABufferLargerThanFreeMemoryNamingTheKey) {
  try {
    ReplayBuffer rb(int64_t{1} << 40, 2, 1, kCpu);
    FAIL() << "expected a refusal";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("sac.buffer_size=1099511627776"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("would fit"));
  }
  EXPECT_EQ(ReplayBuffer::footprint_bytes(1000, 2, 1), 1000 * 7 * 4);
}

}  // namespace
}  // namespace vecsac
