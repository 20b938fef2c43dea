/// @brief Counter-based draws: their distributions, their independence from the launch's
/// shape (K agents in one fill are K single fills), the CUDA grid on the CPU, and refusals.
#include "vecsac/random/random_stream.h"

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "support/cuda_gpu.h"
#include "vecsac/random/counter_draws.h"
#include "vecsac/replay/replay_buffer.h"

namespace vecsac {
namespace {

const c10::Device kCpu(c10::kCPU);

TEST(RandomStreamTest, NormalsHaveTheStandardMomentsAndTails) {
  const RandomStream s(17, kCpu);
  const at::Tensor x = at::empty({400000});
  fill_normal(x, s.keys(), 0);
  // Mean sd 1/sqrt(n) = 0.0016, variance sd sqrt(2/n) = 0.0022: 5 sd bounds.
  EXPECT_NEAR(x.mean().item<double>(), 0.0, 0.008);
  EXPECT_NEAR(x.var().item<double>(), 1.0, 0.011);
  // P(|z| > 2) = 0.0455, sd of the fraction 0.00033.
  EXPECT_NEAR((x.abs() > 2.0).to(at::kDouble).mean().item<double>(), 0.0455, 0.0017);
  EXPECT_TRUE(at::isfinite(x).all().item<bool>());
  // Odd moments vanish: the skew of a normal is 0 (sd sqrt(6/n) = 0.0039).
  EXPECT_NEAR(x.pow(3).mean().item<double>(), 0.0, 0.02);
}

TEST(RandomStreamTest, UniformsAndIndicesFillTheirRangesEvenly) {
  const RandomStream s(3, kCpu);
  const at::Tensor u = at::empty({200000});
  fill_uniform(u, s.keys(), 5, -2.0f, 2.0f);
  EXPECT_GE(u.min().item<float>(), -2.0f);
  EXPECT_LT(u.max().item<float>(), 2.0f);
  const at::Tensor bins = at::histc(u, 8, -2.0, 2.0);  // 25000 each, sd 150
  EXPECT_GT(bins.min().item<float>(), 25000 - 900);
  EXPECT_LT(bins.max().item<float>(), 25000 + 900);
  std::vector<int64_t> counts(37, 0);
  for (uint64_t i = 0; i < 370000; ++i) ++counts[counter_index(3, 1, i, 37)];
  for (const int64_t c : counts) {
    EXPECT_GT(c, 10000 - 600);  // binomial sd 99
    EXPECT_LT(c, 10000 + 600);
  }
  EXPECT_EQ(counter_index(3, 1, 0, 1), 0);
}

// Element j of an agent's draw depends on its key, the draw and j only: the same in a fill of
// one agent and in a fill of three; other draws and other keys give other numbers.
TEST(RandomStreamTest, AnAgentsDrawIsTheSameAloneAndInAPopulation) {
  std::vector<RandomStream> alone;
  for (uint64_t k = 0; k < 3; ++k) alone.emplace_back(100 + k, kCpu);
  std::vector<RandomStream> members = alone;
  LockstepStreams lockstep({&members[0], &members[1], &members[2]});
  for (int round = 0; round < 2; ++round) {
    const at::Tensor all = at::empty({3, 5, 2});
    fill_normal(all, lockstep.keys(), lockstep.next());
    for (int64_t k = 0; k < 3; ++k) {
      const at::Tensor own = at::empty({5, 2});
      fill_normal(own, alone[k].keys(), alone[k].next());
      EXPECT_TRUE(at::equal(all[k], own)) << "agent " << k << ", round " << round;
      EXPECT_EQ(members[k].draws(), alone[k].draws());
    }
    EXPECT_FALSE(at::equal(all[0], all[1])) << "two keys, one draw";
  }
  const at::Tensor first = at::empty({10}), second = at::empty({10});
  fill_normal(first, alone[0].keys(), 0);
  fill_normal(second, alone[0].keys(), 1);
  EXPECT_FALSE(at::equal(first, second)) << "two draws of one stream";
  members[1].next();
  EXPECT_THAT([&] { lockstep.next(); }, ::testing::ThrowsMessage<c10::Error>(
                                            ::testing::HasSubstr("agents at draws 2 and 3")));
  EXPECT_EQ(members[0].draws(), 2) << "a refused lockstep draw counted in agent 0";
  EXPECT_THAT(
      [&] {
        LockstepStreams({&members[0], &members[1]});
      },
      ::testing::ThrowsMessage<c10::Error>(
          ::testing::HasSubstr("agent 1's stream has made 3 draws, agent 0's 2")));
}

// The CUDA kernel's grid, replayed through its thread body: every element once, as the CPU
// loop writes it, and no thread past the end writes.
TEST(RandomStreamTest, EmulatedFillGridWritesEachElementOnce) {
  constexpr int64_t t = kThreadsPerBlock;
  const std::vector<int64_t> keys = {9, 10};
  for (const int64_t per_agent : {int64_t{1}, t - 1, t, 2 * t + 3}) {
    std::vector<float> out(2 * per_agent + 1, -7.0f);
    const CounterFill f{out.data(), keys.data(), 2, per_agent, 4, CounterDistribution::kUniform,
                        0.0f,       1.0f};
    for (int64_t b = 0; b < blocks_for(2 * per_agent, t); ++b) {
      for (int64_t th = 0; th < t; ++th) counter_fill_thread(f, b, t, th);
    }
    for (int64_t a = 0; a < 2; ++a) {
      for (int64_t j = 0; j < per_agent; ++j) {
        ASSERT_EQ(out[a * per_agent + j], counter_uniform(keys[a], 4, j, 0.0f, 1.0f)) << j;
      }
    }
    EXPECT_EQ(out[2 * per_agent], -7.0f) << "a thread past the end wrote, per_agent " << per_agent;
  }
}

TEST(RandomStreamTest, RefusesOutputsAndKeysItCannotFill) {
  const RandomStream s(1, kCpu);
  EXPECT_THAT([&] { fill_normal(at::empty({4}, at::kDouble), s.keys(), 0); },
              ::testing::ThrowsMessage<c10::Error>(::testing::HasSubstr("contiguous float32")));
  EXPECT_THAT([&] { fill_normal(at::empty({5}), at::arange(2, at::kLong), 0); },
              ::testing::ThrowsMessage<c10::Error>(
                  ::testing::HasSubstr("5 elements for 2 agents; allowed: a multiple")));
  EXPECT_THAT(
      [&] { fill_normal(at::empty({4}), at::arange(2, at::kInt), 0); },
      ::testing::ThrowsMessage<c10::Error>(::testing::HasSubstr("keys must be [K >= 1] int64")));
  RandomStream r(1, kCpu);
  EXPECT_THROW(r.set_draws(-1), c10::Error);
}

// Where a GPU is: the CUDA kernels draw the CPU loop's numbers. Uniforms and replay indices
// are exact integer and IEEE double work (the kernels are built with --fmad=false), so they
// are equal; normals go through CUDA's double log and cos, within an ulp or two of glibc's,
// so after rounding to float they may differ in the last bit only.
TEST(RandomStreamCudaTest, TheGpuDrawsTheCpusNumbers) {
  VECSAC_REQUIRE_CUDA_GPU();
  const c10::Device cuda(c10::kCUDA, 0);
  const at::Tensor cpu_keys = at::tensor({int64_t{21}, int64_t{-5}, int64_t{1} << 40});
  const at::Tensor gpu_keys = cpu_keys.to(cuda);
  const at::Tensor u_cpu = at::empty({3, 1000}), u_gpu = at::empty({3, 1000}, cuda);
  fill_uniform(u_cpu, cpu_keys, 7, -2.0f, 2.0f);
  fill_uniform(u_gpu, gpu_keys, 7, -2.0f, 2.0f);
  EXPECT_TRUE(at::equal(u_gpu.cpu(), u_cpu));
  const at::Tensor n_cpu = at::empty({3, 1000}), n_gpu = at::empty({3, 1000}, cuda);
  fill_normal(n_cpu, cpu_keys, 7);
  fill_normal(n_gpu, gpu_keys, 7);
  EXPECT_LE((n_gpu.cpu() - n_cpu).abs().max().item<float>(),
            2e-7f * n_cpu.abs().max().item<float>());

  ReplayBuffer on_cpu(100, 2, 1, kCpu), on_gpu(100, 2, 1, cuda);
  const at::Tensor k = at::arange(60, at::kFloat);
  const at::Tensor obs = at::stack({k, -k}, 1), act = k.unsqueeze(1);
  on_cpu.add(obs, act, k, obs + 0.5, k.fmod(2) == 0);
  on_gpu.add(obs.to(cuda), act.to(cuda), k.to(cuda), (obs + 0.5).to(cuda),
             (k.fmod(2) == 0).to(cuda));
  RandomStream a(3, kCpu), b(3, cuda);
  for (int draw = 0; draw < 3; ++draw) {
    const Batch& x = on_cpu.sample_reused(256, a);
    const Batch& y = on_gpu.sample_reused(256, b);
    EXPECT_TRUE(at::equal(y.reward.cpu(), x.reward)) << "draw " << draw;
    EXPECT_TRUE(at::equal(y.obs.cpu(), x.obs)) << "draw " << draw;
  }
}

}  // namespace
}  // namespace vecsac
