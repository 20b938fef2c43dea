/// @brief ReplayBuffer: wrap-around, uniform sampling, footprint refusal.
#include "vecsac/replay/replay_buffer.h"

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "vecsac/nn/launch_count.h"
#include "vecsac/random/counter_draws.h"

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
  RandomStream stream(9, kCpu);
  constexpr int kDraws = 200000;
  const Batch b = rb.sample(kDraws, stream);
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

// The fused gather draws row j's index as counter_index(key, draw, j, size) and gathers
// what index_select would: a draw is a pure function of the stream's key and draw count.
TEST(ReplayBufferTest, AFusedDrawGathersTheStreamsCounterIndices) {
  ReplayBuffer rb(50, 3, 2, kCpu);
  const at::Tensor k = at::arange(37, at::kFloat);
  rb.add(at::rand({37, 3}), at::rand({37, 2}), k, at::rand({37, 3}), k.fmod(3) == 0);
  RandomStream stream(4, kCpu);
  at::Tensor previous;
  for (int64_t batch : {1, 64, 64, 7}) {
    const int64_t draw = stream.draws();
    const Batch& got = rb.sample_reused(batch, stream);
    EXPECT_EQ(stream.draws(), draw + 1);
    std::vector<int64_t> index(batch);
    for (int64_t j = 0; j < batch; ++j) index[j] = counter_index(4, draw, j, 37);
    const at::Tensor idx = at::tensor(index, at::kLong);
    const Batch s = rb.storage();
    EXPECT_TRUE(at::equal(got.obs, s.obs.index_select(0, idx))) << batch;
    EXPECT_TRUE(at::equal(got.act, s.act.index_select(0, idx))) << batch;
    EXPECT_TRUE(at::equal(got.reward, s.reward.index_select(0, idx))) << batch;
    EXPECT_TRUE(at::equal(got.next_obs, s.next_obs.index_select(0, idx))) << batch;
    EXPECT_TRUE(at::equal(got.terminated, s.terminated.index_select(0, idx))) << batch;
    if (batch == 64 && previous.defined()) {
      EXPECT_FALSE(at::equal(got.reward, previous)) << "two draws gave one batch";
    }
    if (batch == 64) previous = got.reward.clone();
  }
  // The reused batch is the same storage from draw to draw; sample() copies it out.
  const float* before = rb.sample_reused(7, stream).obs.const_data_ptr<float>();
  EXPECT_EQ(rb.sample_reused(7, stream).obs.const_data_ptr<float>(), before);
  EXPECT_NE(rb.sample(7, stream).obs.const_data_ptr<float>(), before);
}

// A population's agents' buffers are rings of one storage, and one gather draws every
// agent's batch: agent a's rows are what a buffer of its own with the same transitions gives
// with its stream. Buffers that are not consecutive rings, or hold different counts, and
// wrong outputs are refused, naming what is expected.
TEST(ReplayBufferTest, ALockstepDrawGivesEachAgentItsOwnBuffersDraw) {
  constexpr int64_t kAgents = 3, kCapacity = 50, kBatch = 8;
  const Batch rings = ReplayBuffer::allocate_rings(kAgents, kCapacity, 2, 1, kCpu);
  EXPECT_EQ(rings.obs.sizes(), (at::IntArrayRef{kAgents * kCapacity, 2}));
  std::vector<ReplayBuffer> pop, alone;
  std::vector<RandomStream> pop_streams, alone_streams;
  for (int64_t a = 0; a < kAgents; ++a) {
    pop.emplace_back(rings, a, kCapacity);
    alone.emplace_back(kCapacity, 2, 1, kCpu);
    add_range(pop.back(), 100 * a, 23);
    add_range(alone.back(), 100 * a, 23);
    pop_streams.emplace_back(static_cast<uint64_t>(7 + a), kCpu);
    alone_streams.emplace_back(static_cast<uint64_t>(7 + a), kCpu);
  }
  std::vector<ReplayBuffer*> buffers;
  std::vector<RandomStream*> streams;
  for (int64_t a = 0; a < kAgents; ++a) {
    buffers.push_back(&pop[a]);
    streams.push_back(&pop_streams[a]);
  }
  LockstepStreams lockstep(streams);
  auto whole = [] {
    const int64_t rows = kAgents * kBatch;
    return Batch{at::full({rows, 2}, -1.0f), at::full({rows, 1}, -1.0f), at::full({rows}, -1.0f),
                 at::full({rows, 2}, -1.0f), at::full({rows}, -1.0f)};
  };
  const Batch got = whole();
  for (int round = 0; round < 2; ++round) {
    ReplayBuffer::sample_lockstep(buffers, kBatch, lockstep, got);
    for (int64_t a = 0; a < kAgents; ++a) {
      const Batch& want = alone[a].sample_reused(kBatch, alone_streams[a]);
      EXPECT_EQ(pop_streams[a].draws(), alone_streams[a].draws());
      const auto rows = [&](const at::Tensor& t) { return t.narrow(0, a * kBatch, kBatch); };
      EXPECT_TRUE(at::equal(rows(got.obs), want.obs)) << a;
      EXPECT_TRUE(at::equal(rows(got.act), want.act)) << a;
      EXPECT_TRUE(at::equal(rows(got.reward), want.reward)) << a;
      EXPECT_TRUE(at::equal(rows(got.next_obs), want.next_obs)) << a;
      EXPECT_TRUE(at::equal(rows(got.terminated), want.terminated)) << a;
      EXPECT_GE(rows(got.reward).min().item<float>(), 100.0f * a) << "another agent's ring";
    }
  }
  // One launch for every agent's draw.
  const int64_t before = launch_count().load();
  ReplayBuffer::sample_lockstep(buffers, kBatch, lockstep, got);
  EXPECT_EQ(launch_count().load() - before, 1);
  // Each agent's checkpoint holds its own ring, not the whole storage.
  EXPECT_EQ(pop[1].stored().obs.sizes(), (at::IntArrayRef{23, 2}));
  EXPECT_TRUE(at::equal(pop[1].stored().reward, alone[1].stored().reward));

  const std::vector<ReplayBuffer*> swapped = {&pop[1], &pop[0], &pop[2]};
  EXPECT_THAT([&] { ReplayBuffer::sample_lockstep(swapped, kBatch, lockstep, got); },
              ::testing::ThrowsMessage<c10::Error>(
                  ::testing::HasSubstr("buffer 1 is not agent 1 of the first buffer's rings")));
  add_range(pop[2], 0, 1);
  EXPECT_THAT([&] { ReplayBuffer::sample_lockstep(buffers, kBatch, lockstep, got); },
              ::testing::ThrowsMessage<c10::Error>(::testing::HasSubstr("holds 24 transitions")));
  Batch strided = whole();
  strided.obs = at::zeros({2, kAgents * kBatch}).t();
  EXPECT_THAT([&] { alone[0].sample_into(kAgents * kBatch, alone_streams[0], strided); },
              ::testing::ThrowsMessage<c10::Error>(::testing::HasSubstr("contiguous float32")));
  const int64_t draws = alone_streams[0].draws();
  EXPECT_THAT([&] { alone[0].sample_into(7, alone_streams[0], got); },
              ::testing::ThrowsMessage<c10::Error>(::testing::HasSubstr("of shape [7, 2]")));
  EXPECT_EQ(alone_streams[0].draws(), draws) << "a refused draw was counted";
}

// One insert for every agent: agent a's rows land in its ring as its own add() puts them,
// through a wrap of the rings, in one launch; the cursors and sizes follow each buffer's.
TEST(ReplayBufferTest, ALockstepInsertGivesEachAgentItsOwnAdd) {
  constexpr int64_t kAgents = 3, kCapacity = 10, kN = 4;
  const Batch rings = ReplayBuffer::allocate_rings(kAgents, kCapacity, 2, 1, kCpu);
  std::vector<ReplayBuffer> pop, alone;
  std::vector<ReplayBuffer*> buffers;
  for (int64_t a = 0; a < kAgents; ++a) {
    pop.emplace_back(rings, a, kCapacity);
    alone.emplace_back(kCapacity, 2, 1, kCpu);
  }
  for (ReplayBuffer& b : pop) buffers.push_back(&b);
  for (int step = 0; step < 4; ++step) {  // 16 rows into rings of 10: a wrap
    const at::Tensor k = at::arange(kAgents * kN, at::kFloat) + 100.0f * step;
    const at::Tensor obs = k.unsqueeze(1).repeat({1, 2}), act = k.unsqueeze(1) * 2;
    const at::Tensor next = obs + 0.5, term = k.fmod(3) == 0;
    const int64_t before = launch_count().load();
    ReplayBuffer::add_lockstep(buffers, obs, act, k, next, term);
    EXPECT_EQ(launch_count().load() - before, 1);
    for (int64_t a = 0; a < kAgents; ++a) {
      const auto rows = [&](const at::Tensor& t) { return t.narrow(0, a * kN, kN); };
      alone[a].add(rows(obs), rows(act), rows(k), rows(next), rows(term));
    }
  }
  for (int64_t a = 0; a < kAgents; ++a) {
    EXPECT_EQ(pop[a].size(), alone[a].size());
    EXPECT_EQ(pop[a].cursor(), alone[a].cursor());
    const Batch got = pop[a].storage(), want = alone[a].storage();
    EXPECT_TRUE(at::equal(got.obs, want.obs)) << a;
    EXPECT_TRUE(at::equal(got.act, want.act)) << a;
    EXPECT_TRUE(at::equal(got.reward, want.reward)) << a;
    EXPECT_TRUE(at::equal(got.next_obs, want.next_obs)) << a;
    EXPECT_TRUE(at::equal(got.terminated, want.terminated)) << a;
  }
  const at::Tensor z = at::zeros({kAgents * kN, 2});
  const at::Tensor flags = at::zeros({kAgents * kN}, at::kBool);
  EXPECT_THAT(
      [&] {
        ReplayBuffer::add_lockstep(buffers, z.narrow(0, 0, 11), z.narrow(0, 0, 11).narrow(1, 0, 1),
                                   flags.narrow(0, 0, 11).to(at::kFloat), z.narrow(0, 0, 11),
                                   flags.narrow(0, 0, 11));
      },
      ::testing::ThrowsMessage<c10::Error>(
          ::testing::HasSubstr("with N a multiple of the 3 agents, got [11, 2]")));
  pop[1].add(z.narrow(0, 0, 1), z.narrow(0, 0, 1).narrow(1, 0, 1), at::zeros({1}),
             z.narrow(0, 0, 1), at::zeros({1}));
  EXPECT_THAT(
      [&] {
        ReplayBuffer::add_lockstep(buffers, z, z.narrow(1, 0, 1), flags.to(at::kFloat), z, flags);
      },
      ::testing::ThrowsMessage<c10::Error>(::testing::HasSubstr(
          "buffer 1 holds 10 transitions (cursor 7) against 10 (cursor 6); agents insert")));
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
    // Two agents' inserts into their rings of the storage (row i of agent a carries 1000 a + i).
    std::vector<float> in_obs(2 * n * 2), in_act(2 * n), in_reward(2 * n);
    std::vector<char> flags(2 * n);
    for (int64_t i = 0; i < 2 * n; ++i) {
      const auto v = static_cast<float>(1000 * (i / n) + i % n);
      in_obs[2 * i] = in_obs[2 * i + 1] = in_act[i] = in_reward[i] = v;
      flags[i] = static_cast<char>(i % 2);
    }
    std::vector<float> i_obs(2 * capacity * 2, -1), i_act(2 * capacity, -1),
        i_reward(2 * capacity, -1), i_next(2 * capacity * 2, -1), i_term(2 * capacity, -1);
    const ReplayStorage s{
        i_obs.data(), i_act.data(), i_reward.data(), i_next.data(), i_term.data(), capacity, 2, 1};
    const InsertRows in{in_obs.data(),
                        in_act.data(),
                        in_reward.data(),
                        in_obs.data(),
                        reinterpret_cast<const bool*>(flags.data()),
                        nullptr,
                        n,
                        cursor,
                        2};
    for (int64_t b = 0; b < blocks_for(2 * n, t); ++b) {
      for (int64_t th = 0; th < t; ++th) insert_thread(s, in, b, t, th);
    }
    for (int64_t a = 0; a < 2; ++a) {
      for (int64_t i = 0; i < n; ++i) {
        const int64_t slot = a * capacity + (cursor + i) % capacity;
        ASSERT_EQ(i_reward[slot], 1000.0f * a + i) << "n=" << n << " agent " << a << " i=" << i;
        ASSERT_EQ(i_term[slot], static_cast<float>((a * n + i) % 2)) << "n=" << n << " i=" << i;
      }
    }
    EXPECT_EQ(std::count(i_reward.begin(), i_reward.end(), -1.0f), 2 * (capacity - n)) << "n=" << n;

    // A gather of two agents' rings (slot r of ring a holds 1000 a + r), n rows each.
    const int64_t stored = std::min<int64_t>(capacity, n + 3);
    std::vector<float> r_obs(2 * capacity * 2), r_act(2 * capacity), r_reward(2 * capacity),
        r_next(2 * capacity * 2), r_term(2 * capacity);
    for (int64_t r = 0; r < 2 * capacity; ++r) {
      r_reward[r] = static_cast<float>(1000 * (r / capacity) + r % capacity);
    }
    const ReplayStorage rings{
        r_obs.data(), r_act.data(), r_reward.data(), r_next.data(), r_term.data(), capacity, 2, 1};
    const std::vector<int64_t> keys = {5, 6};
    std::vector<float> g_obs(2 * n * 2 + 2, -1), g_act(2 * n + 1, -1), g_reward(2 * n + 1, -1),
        g_next(2 * n * 2 + 2, -1), g_term(2 * n + 1, -1);
    const GatherRows out{
        keys.data(),   3, stored, g_obs.data(), g_act.data(), g_reward.data(), g_next.data(),
        g_term.data(), n, 2};
    for (int64_t b = 0; b < blocks_for(2 * n, t); ++b) {
      for (int64_t th = 0; th < t; ++th) gather_thread(rings, out, b, t, th);
    }
    for (int64_t a = 0; a < 2; ++a) {
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(g_reward[a * n + i], 1000.0f * a + counter_index(keys[a], 3, i, stored))
            << "n=" << n << " agent " << a << " row " << i;
      }
    }
    EXPECT_EQ(g_reward[2 * n], -1.0f) << "a thread past the rows wrote, n=" << n;
    EXPECT_EQ(g_obs[4 * n], -1.0f);
  }
}

}  // namespace
}  // namespace vecsac
