/// @brief ReplayBuffer: wrap-around, uniform sampling, footprint refusal.
#include "vecsac/replay/replay_buffer.h"

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

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

namespace vecsac {
namespace {

// The fused gather draws its indices as at::randint did and gathers what index_select did:
// the trainer's batches (and so every trajectory) are those of the per-field ops before it.
TEST(ReplayBufferTest, AFusedDrawEqualsRandintAndIndexSelectOnTheSameStream) {
  ReplayBuffer rb(50, 3, 2, kCpu);
  const at::Tensor k = at::arange(37, at::kFloat);
  rb.add(at::rand({37, 3}), at::rand({37, 2}), k, at::rand({37, 3}), k.fmod(3) == 0);
  at::Generator a = make_generator(kCpu, 4), b = make_generator(kCpu, 4);
  for (int64_t batch : {1, 64, 64, 7}) {
    const Batch& got = rb.sample_reused(batch, a);
    const at::Tensor idx = at::randint(0, 37, {batch}, b, at::TensorOptions().dtype(at::kLong));
    const Batch s = rb.storage();
    EXPECT_TRUE(at::equal(got.obs, s.obs.index_select(0, idx))) << batch;
    EXPECT_TRUE(at::equal(got.act, s.act.index_select(0, idx))) << batch;
    EXPECT_TRUE(at::equal(got.reward, s.reward.index_select(0, idx))) << batch;
    EXPECT_TRUE(at::equal(got.next_obs, s.next_obs.index_select(0, idx))) << batch;
    EXPECT_TRUE(at::equal(got.terminated, s.terminated.index_select(0, idx))) << batch;
  }
  // The reused batch is the same storage from draw to draw; sample() copies it out.
  const float* before = rb.sample_reused(7, a).obs.const_data_ptr<float>();
  EXPECT_EQ(rb.sample_reused(7, a).obs.const_data_ptr<float>(), before);
  EXPECT_NE(rb.sample(7, a).obs.const_data_ptr<float>(), before);
}

// A population samples each agent's draw straight into its rows of one batch: the rows hold
// what sample_reused gives from the same stream, the rest is untouched; wrong outputs are
// refused, naming what is expected.
TEST(ReplayBufferTest, SampleIntoWritesTheSameDrawIntoTheCallersRows) {
  ReplayBuffer rb(50, 2, 1, kCpu);
  add_range(rb, 0, 23);
  at::Generator a = make_generator(kCpu, 9), b = make_generator(kCpu, 9);
  const at::Tensor all = at::full({3 * 8, 2}, -1.0f);
  Batch whole{all, at::full({3 * 8, 1}, -1.0f), at::full({3 * 8}, -1.0f),
              at::full({3 * 8, 2}, -1.0f), at::full({3 * 8}, -1.0f)};
  auto rows = [&](int64_t agent) {
    return Batch{whole.obs.narrow(0, agent * 8, 8), whole.act.narrow(0, agent * 8, 8),
                 whole.reward.narrow(0, agent * 8, 8), whole.next_obs.narrow(0, agent * 8, 8),
                 whole.terminated.narrow(0, agent * 8, 8)};
  };
  rb.sample_into(8, a, rows(1));
  const Batch& want = rb.sample_reused(8, b);
  const Batch got = rows(1);
  EXPECT_TRUE(at::equal(got.obs, want.obs));
  EXPECT_TRUE(at::equal(got.act, want.act));
  EXPECT_TRUE(at::equal(got.reward, want.reward));
  EXPECT_TRUE(at::equal(got.next_obs, want.next_obs));
  EXPECT_TRUE(at::equal(got.terminated, want.terminated));
  EXPECT_TRUE(at::equal(rows(0).obs, at::full({8, 2}, -1.0f)));
  EXPECT_TRUE(at::equal(rows(2).reward, at::full({8}, -1.0f)));

  Batch strided = rows(0);
  strided.obs = at::zeros({2, 8}).t();
  EXPECT_THAT([&] { rb.sample_into(8, a, strided); },
              ::testing::ThrowsMessage<c10::Error>(::testing::HasSubstr("contiguous float32")));
  EXPECT_THAT([&] { rb.sample_into(7, a, rows(0)); },
              ::testing::ThrowsMessage<c10::Error>(::testing::HasSubstr("of shape [7, 2]")));
}

// A checkpoint holds the stored rows only; restoring them, or the whole capacity as formats
// before 4 saved it, gives the same buffer, down to the zeros of the rows never written.
TEST(ReplayBufferTest, RestoresFromTheStoredRowsOrTheWholeCapacity) {
  ReplayBuffer rb(10, 2, 1, kCpu);
  add_range(rb, 1, 6);
  const Batch stored = rb.stored();
  EXPECT_EQ(stored.obs.size(0), 6);
  EXPECT_EQ(stored.obs.storage().nbytes(), 6 * 2 * sizeof(float)) << "not a view of all 10";
  const Batch want = rb.storage();
  for (const Batch& rows : {stored, want}) {
    ReplayBuffer back(10, 2, 1, kCpu);
    add_range(back, 50, 10);  // full of other transitions: all of them must go
    back.restore(rows, 10, rb.size(), rb.cursor());
    EXPECT_EQ(back.size(), 6);
    EXPECT_EQ(back.cursor(), 6);
    const Batch got = back.storage();
    EXPECT_TRUE(at::equal(got.obs, want.obs));
    EXPECT_TRUE(at::equal(got.act, want.act));
    EXPECT_TRUE(at::equal(got.reward, want.reward));
    EXPECT_TRUE(at::equal(got.next_obs, want.next_obs));
    EXPECT_TRUE(at::equal(got.terminated, want.terminated));
  }
  add_range(rb, 7, 7);  // wraps: a full buffer is saved whole, its cursor where it is
  ReplayBuffer back(10, 2, 1, kCpu);
  back.restore(rb.stored(), 10, rb.size(), rb.cursor());
  EXPECT_EQ(back.size(), 10);
  EXPECT_EQ(back.cursor(), 3);
  EXPECT_TRUE(at::equal(back.storage().obs, rb.storage().obs));
  EXPECT_TRUE(at::equal(back.storage().terminated, rb.storage().terminated));
}

TEST(ReplayBufferTest, RestoreRefusesAnotherCapacityOrShape) {
  ReplayBuffer rb(10, 2, 1, kCpu);
  add_range(rb, 0, 4);
  ReplayBuffer other(12, 2, 1, kCpu);
  EXPECT_THAT([&] { other.restore(rb.stored(), 10, 4, 4); },
              ::testing::ThrowsMessage<c10::Error>(::testing::HasSubstr("sac.buffer_size")));
  ReplayBuffer same(10, 2, 1, kCpu);
  EXPECT_THAT([&] { same.restore(rb.stored(), 10, 5, 5); },
              ::testing::ThrowsMessage<c10::Error>(::testing::HasSubstr("4 rows for 5")));
  EXPECT_THAT([&] { same.restore(rb.stored(), 10, 4, 2); },
              ::testing::ThrowsMessage<c10::Error>(::testing::HasSubstr("cursor at its size")));
  ReplayBuffer wider(10, 3, 1, kCpu);
  EXPECT_THAT([&] { wider.restore(rb.stored(), 10, 4, 4); },
              ::testing::ThrowsMessage<c10::Error>(::testing::HasSubstr("env changed")));
}

// Inputs the fused insert cannot read in place (double, strided, int flags) are converted.
TEST(ReplayBufferTest, InsertConvertsOtherDtypesAndLayouts) {
  ReplayBuffer rb(8, 2, 1, kCpu);
  const at::Tensor obs = at::arange(6, at::kDouble).reshape({2, 3}).t();  // [3, 2], strided
  rb.add(obs, at::ones({3, 1}, at::kDouble), at::tensor({1, 2, 3}, at::kInt), obs * 2,
         at::tensor({0, 1, 0}, at::kInt));
  const Batch s = rb.storage();
  EXPECT_TRUE(at::equal(s.obs.narrow(0, 0, 3), obs.to(at::kFloat)));
  EXPECT_TRUE(at::equal(s.next_obs.narrow(0, 0, 3), (obs * 2).to(at::kFloat)));
  EXPECT_TRUE(at::equal(s.reward.narrow(0, 0, 3), at::tensor({1.f, 2.f, 3.f})));
  EXPECT_TRUE(at::equal(s.terminated.narrow(0, 0, 3), at::tensor({0.f, 1.f, 0.f})));
}

// The CUDA kernels' grids, replayed on the CPU through their thread bodies: every row once,
// across the wrap, and no thread past the end writes.
TEST(ReplayBufferTest, EmulatedInsertAndGatherGridsHandleEachRowOnce) {
  constexpr int64_t t = kThreadsPerBlock;
  for (int64_t n : {int64_t{1}, t - 1, t, t + 1, 3 * t + 5}) {
    const int64_t capacity = n + 7, cursor = 9 % capacity;
    std::vector<float> obs(capacity * 2, -1), act(capacity, -1), reward(capacity, -1),
        next(capacity * 2, -1), term(capacity, -1);
    const ReplayStorage s{obs.data(), act.data(), reward.data(), next.data(), term.data(), capacity,
                          2,          1};
    std::vector<float> in_obs(n * 2), in_act(n), in_reward(n);
    std::vector<char> flags(n);
    for (int64_t i = 0; i < n; ++i) {
      in_obs[2 * i] = in_obs[2 * i + 1] = in_act[i] = in_reward[i] = static_cast<float>(i);
      flags[i] = static_cast<char>(i % 2);
    }
    const InsertRows in{in_obs.data(),
                        in_act.data(),
                        in_reward.data(),
                        in_obs.data(),
                        reinterpret_cast<const bool*>(flags.data()),
                        nullptr,
                        n,
                        cursor};
    for (int64_t b = 0; b < blocks_for(n, t); ++b) {
      for (int64_t th = 0; th < t; ++th) insert_thread(s, in, b, t, th);
    }
    for (int64_t i = 0; i < n; ++i) {
      const int64_t slot = (cursor + i) % capacity;
      ASSERT_EQ(reward[slot], static_cast<float>(i)) << "n=" << n << " i=" << i;
      ASSERT_EQ(term[slot], static_cast<float>(i % 2)) << "n=" << n << " i=" << i;
    }
    EXPECT_EQ(std::count(reward.begin(), reward.end(), -1.0f), capacity - n) << "n=" << n;

    std::vector<int64_t> index(n);
    for (int64_t i = 0; i < n; ++i) index[i] = (cursor + n - 1 - i) % capacity;  // reversed
    std::vector<float> g_obs(n * 2 + 2, -1), g_act(n + 1, -1), g_reward(n + 1, -1),
        g_next(n * 2 + 2, -1), g_term(n + 1, -1);
    const GatherRows out{
        index.data(), g_obs.data(), g_act.data(), g_reward.data(), g_next.data(), g_term.data(), n};
    for (int64_t b = 0; b < blocks_for(n, t); ++b) {
      for (int64_t th = 0; th < t; ++th) gather_thread(s, out, b, t, th);
    }
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(g_reward[i], static_cast<float>(n - 1 - i));
    EXPECT_EQ(g_reward[n], -1.0f) << "a thread past n=" << n << " wrote";
    EXPECT_EQ(g_obs[2 * n], -1.0f);
  }
}

}  // namespace
}  // namespace vecsac
