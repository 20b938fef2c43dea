/// @brief VecEnv on the CPU: auto-reset, statistics, determinism, N-independence, errors.
#include "vecsac/env/vec_env.h"

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "reference_envs.h"

namespace vecsac {
namespace {

const c10::Device kCpu(c10::kCPU);

EnvParams point_mass(int dim = 1, uint64_t seed = 0) {
  return EnvParams{EnvId::kPointMass, dim, 200, seed};
}
EnvParams pendulum(uint64_t seed = 0) { return EnvParams{EnvId::kPendulum, 1, 200, seed}; }

// What fn() throws, without the backtrace; "no error" when it returns.
template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const c10::Error& e) {
    return std::string(e.what_without_backtrace());
  }
  return std::string("no error");
}

at::Tensor random_actions(int64_t n, int act_dim, at::Generator& gen) {
  return at::rand({n, act_dim}, gen) * 6.0 - 3.0;  // beyond the bounds, to exercise clipping
}

TEST(VecEnvTest, ShapesAndDtypes) {
  VecEnv env(point_mass(/*dim=*/3), /*num_envs=*/5, kCpu);
  EXPECT_EQ(env.obs().sizes(), (at::IntArrayRef{5, 6}));
  EXPECT_EQ(env.act_dim(), 3);
  const StepResult r = env.step(at::zeros({5, 3}));
  EXPECT_EQ(r.next_obs.sizes(), (at::IntArrayRef{5, 6}));
  EXPECT_EQ(r.reward.sizes(), (at::IntArrayRef{5}));
  EXPECT_EQ(r.terminated.scalar_type(), at::kBool);
  EXPECT_EQ(r.truncated.scalar_type(), at::kBool);
  VecEnv pend(pendulum(), 2, kCpu);
  EXPECT_EQ(pend.obs().sizes(), (at::IntArrayRef{2, 3}));
  EXPECT_EQ(pend.state_dim(), 2);
}

// dim 1 runs the CPU's vectorized path, dim 2 the generic one; both must be the
// reference loop bit for bit. 300 envs so vector lanes and remainders both occur.
TEST(VecEnvTest, TrajectoryMatchesReferenceLoopAndObsIsStateLayout) {
  constexpr int64_t kN = 301;
  for (int dim : {1, 2}) {
    VecEnv env(point_mass(dim), kN, kCpu);
    at::Generator gen = at::detail::createCPUGenerator(7);
    const at::Tensor init = at::rand({kN, 2 * dim}, gen) * 4.0 - 2.0;
    env.set_state(init);
    EXPECT_TRUE(at::equal(env.obs(), init));  // obs = [pos_1..pos_D, vel_1..vel_D]
    std::vector<testing::RefPointMass> ref(kN);
    auto in = init.accessor<float, 2>();
    for (int64_t i = 0; i < kN; ++i) {
      for (int j = 0; j < dim; ++j) {
        ref[i].pos.push_back(in[i][j]);
        ref[i].vel.push_back(in[i][dim + j]);
      }
    }
    for (int t = 0; t < 150; ++t) {
      const at::Tensor a = random_actions(kN, dim, gen);
      const StepResult r = env.step(a);
      auto acts = a.accessor<float, 2>();
      auto obs = r.next_obs.accessor<float, 2>();
      auto rew = r.reward.accessor<float, 1>();
      for (int64_t i = 0; i < kN; ++i) {
        std::vector<float> ai(acts[i].data(), acts[i].data() + dim);
        const double want = ref[i].step(ai);
        ASSERT_EQ(rew[i], static_cast<float>(want)) << "dim " << dim << " t " << t;
        for (int j = 0; j < dim; ++j) {
          ASSERT_EQ(obs[i][j], ref[i].pos[j]) << "dim " << dim << " t " << t;
          ASSERT_EQ(obs[i][dim + j], ref[i].vel[j]) << "dim " << dim << " t " << t;
        }
      }
      ASSERT_TRUE(at::equal(env.obs(), r.next_obs)) << "no reset yet, obs is next_obs";
    }
  }
}

TEST(VecEnvTest, TruncatesExactlyAtStep200KeepsFinalObsAndStartsNewEpisode) {
  for (const EnvParams& p : {point_mass(), pendulum()}) {
    constexpr int64_t kN = 3;
    VecEnv env(p, kN, kCpu);
    at::Generator gen = at::detail::createCPUGenerator(1);
    std::vector<double> returns(kN, 0.0);
    const at::Tensor first_state = env.state();
    for (int t = 1; t <= 200; ++t) {
      const at::Tensor state_before = env.state();
      const StepResult r = env.step(random_actions(kN, env.act_dim(), gen));
      for (int64_t i = 0; i < kN; ++i) returns[i] += r.reward[i].item<float>();
      EXPECT_FALSE(r.terminated.any().item<bool>());
      if (t < 200) {
        ASSERT_FALSE(r.truncated.any().item<bool>()) << "step " << t;
        ASSERT_TRUE(at::equal(env.obs(), r.next_obs));
      } else {
        ASSERT_TRUE(r.truncated.all().item<bool>()) << "every env truncates at step 200";
        // next_obs is the true final observation; obs() starts the new episode.
        EXPECT_FALSE(at::equal(env.obs(), r.next_obs));
        EXPECT_FALSE(at::equal(env.state(), state_before));
        const EpisodeStats s = env.take_episode_stats();
        EXPECT_EQ(s.count.item<int64_t>(), kN);
        EXPECT_EQ(s.length_sum.item<int64_t>(), 200 * kN);
        double want = 0.0;
        for (double x : returns) want += x;
        EXPECT_NEAR(s.return_sum.item<double>(), want, 1e-4 * std::abs(want));
      }
    }
    // The new episode: exactly the reset draws of (seed, env i, episode 1).
    EXPECT_FALSE(at::equal(env.state(), first_state));
    const at::Tensor now = env.state();
    for (int64_t i = 0; i < kN; ++i) {
      std::vector<float> want(env.state_dim());
      ResetStream rng(p.seed, i, /*episode=*/1);
      if (p.id == EnvId::kPointMass) {
        PointMass::reset(p, rng, StateRef{want.data(), 1});
      } else {
        Pendulum::reset(p, rng, StateRef{want.data(), 1});
      }
      for (int j = 0; j < env.state_dim(); ++j) EXPECT_EQ(now[i][j].item<float>(), want[j]);
    }
    for (int t = 1; t <= 200; ++t) {
      const StepResult r = env.step(random_actions(kN, env.act_dim(), gen));
      ASSERT_EQ(r.truncated.all().item<bool>(), t == 200) << "second episode, step " << t;
    }
    EXPECT_EQ(env.take_episode_stats().count.item<int64_t>(), kN);
    EXPECT_EQ(env.take_episode_stats().count.item<int64_t>(), 0) << "take clears the sums";
  }
}

TEST(VecEnvTest, SameSeedSameTrajectoryOtherSeedDifferentObsInBounds) {
  for (const EnvParams& base : {point_mass(2), pendulum()}) {
    EnvParams other = base;
    other.seed = 1;
    VecEnv a(base, 64, kCpu), b(base, 64, kCpu), c(other, 64, kCpu);
    EXPECT_TRUE(at::equal(a.obs(), b.obs()));
    EXPECT_FALSE(at::equal(a.obs(), c.obs()));
    at::Generator ga = at::detail::createCPUGenerator(3), gb = at::detail::createCPUGenerator(3);
    for (int t = 0; t < 450; ++t) {  // crosses two auto-resets
      const StepResult ra = a.step(random_actions(64, a.act_dim(), ga));
      const StepResult rb = b.step(random_actions(64, b.act_dim(), gb));
      ASSERT_TRUE(at::equal(ra.next_obs, rb.next_obs)) << t;
      ASSERT_TRUE(at::equal(ra.reward, rb.reward)) << t;
      ASSERT_TRUE(at::equal(a.obs(), b.obs())) << t;
      if (base.id == EnvId::kPendulum) {
        ASSERT_LE(a.obs().abs().narrow(1, 0, 2).max().item<float>(), 1.0f);
        ASSERT_LE(a.obs().abs().select(1, 2).max().item<float>(), 8.0f);
      }
    }
    if (base.id == EnvId::kPointMass) {
      // Fresh episodes start in the unit box.
      VecEnv fresh(base, 1000, kCpu);
      EXPECT_LE(fresh.obs().abs().max().item<float>(), 1.0f);
      EXPECT_GT(fresh.obs().abs().max().item<float>(), 0.99f);
    } else {
      VecEnv fresh(base, 1000, kCpu);
      const at::Tensor th = fresh.state().select(1, 0), thd = fresh.state().select(1, 1);
      EXPECT_LE(th.abs().max().item<float>(), static_cast<float>(M_PI));
      EXPECT_GT(th.abs().max().item<float>(), 3.1f);
      EXPECT_LE(thd.abs().max().item<float>(), 1.0f);
    }
  }
}

TEST(VecEnvTest, EnvStreamDoesNotDependOnNumEnvs) {
  for (const EnvParams& p : {point_mass(3, 42), pendulum(42)}) {
    VecEnv small(p, 5, kCpu), large(p, 3001, kCpu);  // 3001 spans several CPU tasks
    EXPECT_TRUE(at::equal(small.obs(), large.obs().narrow(0, 0, 5)));
    for (int t = 0; t < 201; ++t) {  // through the auto-reset at step 200
      small.step(at::full({5, small.act_dim()}, 0.5f));
      large.step(at::full({3001, large.act_dim()}, 0.5f));
    }
    EXPECT_TRUE(at::equal(small.obs(), large.obs().narrow(0, 0, 5)));
  }
}

// The kernel's grid, replayed on the CPU over real buffers, gives what the CPU
// loop gives, at sizes around the block size.
TEST(VecEnvTest, EmulatedCudaGridMatchesCpuLoop) {
  for (int64_t n : {int64_t{1}, int64_t{kThreadsPerBlock - 1}, int64_t{kThreadsPerBlock},
                    int64_t{kThreadsPerBlock + 1}, int64_t{1001}}) {
    VecEnv env(point_mass(2, 5), n, kCpu);
    for (int t = 0; t < 199; ++t) env.step(at::full({n, 2}, 0.25f));
    // Snapshot, then step once via the CPU loop and once via the replayed grid.
    const at::Tensor actions = at::full({n, 2}, -1.5f);
    VecEnv twin(point_mass(2, 5), n, kCpu);
    for (int t = 0; t < 199; ++t) twin.step(at::full({n, 2}, 0.25f));
    const StepResult want = env.step(actions);

    // Build the same StepOp VecEnv builds, over copies of twin's tensors.
    at::Tensor state = twin.state().t().contiguous();
    at::Tensor elapsed = at::full({n}, 199, at::kInt), episode = at::zeros({n}, at::kLong);
    at::Tensor ret = at::zeros({n}, at::kDouble), count = at::zeros({n}, at::kLong);
    at::Tensor ret_sum = at::zeros({n}, at::kDouble), len_sum = at::zeros({n}, at::kLong);
    at::Tensor next_obs = at::empty({n, 4}), obs = at::empty({n, 4}), reward = at::empty({n});
    at::Tensor term = at::empty({n}, at::kBool), trunc = at::empty({n}, at::kBool);
    const int64_t first_recorded = 0, seed = 5;
    const StepOp op{point_mass(2, 5),
                    VecEnvBuffers{state.data_ptr<float>(), elapsed.data_ptr<int32_t>(),
                                  episode.data_ptr<int64_t>(), ret.data_ptr<double>(),
                                  count.data_ptr<int64_t>(), ret_sum.data_ptr<double>(),
                                  len_sum.data_ptr<int64_t>(), &first_recorded, &seed,
                                  /*block=*/n, /*stride=*/n},
                    n,
                    actions.data_ptr<float>(),
                    next_obs.data_ptr<float>(),
                    obs.data_ptr<float>(),
                    reward.data_ptr<float>(),
                    term.data_ptr<bool>(),
                    trunc.data_ptr<bool>()};
    for (int64_t b = 0; b < blocks_for(n, kThreadsPerBlock); ++b) {
      for (int64_t th = 0; th < kThreadsPerBlock; ++th) {
        run_env_thread<PointMass>(op, b, kThreadsPerBlock, th);
      }
    }
    EXPECT_TRUE(at::equal(next_obs, want.next_obs)) << n;
    EXPECT_TRUE(at::equal(reward, want.reward)) << n;
    EXPECT_TRUE(at::equal(trunc, want.truncated)) << n;
    EXPECT_TRUE(trunc.all().item<bool>()) << n;
    EXPECT_TRUE(at::equal(obs, env.obs())) << "post-reset obs, n=" << n;
    EXPECT_TRUE(at::equal(count, at::ones({n}, at::kLong))) << n;
  }
}

// Env i's first episode ends after T - floor(i T / N) steps, every later one after T;
// the statistics count the later ones only; set_state undoes the staggering.
TEST(VecEnvTest, StaggeredTimeLimitsSpreadTheFirstEpisodesAndLeaveThemOutOfTheStats) {
  constexpr int kLimit = 10;
  constexpr int64_t kN = 5;
  EnvParams p = point_mass(1, 3);
  p.max_episode_steps = kLimit;
  VecEnv env(p, kN, kCpu), plain(p, kN, kCpu);
  env.stagger_time_limits();
  EXPECT_TRUE(at::equal(env.obs(), plain.obs())) << "staggering must not change the starts";
  std::vector<std::vector<int>> ends(kN);
  std::vector<double> later_returns(kN, 0.0);
  for (int t = 1; t <= 2 * kLimit; ++t) {
    const StepResult r = env.step(at::full({kN, 1}, 0.5f));
    for (int64_t i = 0; i < kN; ++i) {
      if (ends[i].size() == 1) later_returns[i] += r.reward[i].item<double>();
      if (r.truncated[i].item<bool>()) ends[i].push_back(t);
    }
  }
  for (int64_t i = 0; i < kN; ++i) {
    const int first = kLimit - static_cast<int>(i * kLimit / kN);
    ASSERT_EQ(ends[i], (std::vector<int>{first, first + kLimit})) << "env " << i;
  }
  const EpisodeStats stats = env.take_episode_stats();
  EXPECT_EQ(stats.count.item<int64_t>(), kN);
  EXPECT_EQ(stats.length_sum.item<int64_t>(), kN * kLimit);
  EXPECT_NEAR(stats.return_sum.item<double>(),
              std::accumulate(later_returns.begin(), later_returns.end(), 0.0), 1e-4);

  env.set_state(plain.state());
  for (int t = 1; t <= kLimit; ++t) {
    const StepResult r = env.step(at::full({kN, 1}, 0.5f));
    EXPECT_EQ(r.truncated.any().item<bool>(), t == kLimit) << "step " << t;
  }
  EXPECT_EQ(env.take_episode_stats().count.item<int64_t>(), kN);
}

// One step with action_repeat k is k steps of the plain env holding the action:
// rewards summed, the last step's obs and flags, and an episode that ends within
// the k steps (7 is not a multiple of 3) ends the repeated step there and resets.
TEST(VecEnvTest, ActionRepeatEqualsHeldSingleStepsAndStopsAtEpisodeEnd) {
  constexpr int kRepeat = 3;
  for (EnvParams p : {point_mass(1, 5), point_mass(2, 5), pendulum(5)}) {
    p.max_episode_steps = 7;
    EnvParams held = p;
    p.action_repeat = kRepeat;
    constexpr int64_t kN = 9;
    VecEnv repeated(p, kN, kCpu), plain(held, kN, kCpu);
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(17);
    int episode_steps = 0;
    for (int t = 0; t < 12; ++t) {
      const at::Tensor a = random_actions(kN, repeated.act_dim(), gen);
      const StepResult r = repeated.step(a);
      at::Tensor reward = at::zeros({kN}, at::kDouble);
      StepResult s;
      for (int k = 0; k < kRepeat; ++k) {
        s = plain.step(a);
        reward += s.reward.to(at::kDouble);
        if (++episode_steps == held.max_episode_steps) {
          episode_steps = 0;
          break;
        }
      }
      SCOPED_TRACE("env " + std::to_string(static_cast<int>(p.id)) + " dim " +
                   std::to_string(p.dim) + " step " + std::to_string(t));
      EXPECT_TRUE(at::equal(r.next_obs, s.next_obs));
      EXPECT_TRUE(at::equal(r.reward, reward.to(at::kFloat)));
      EXPECT_TRUE(at::equal(r.truncated, s.truncated));
      EXPECT_TRUE(at::equal(repeated.obs(), plain.obs()));
      // Each episode is 3 + 3 + 1 env steps: it ends on every third repeated step.
      EXPECT_EQ(r.truncated.all().item<bool>(), t % 3 == 2);
    }
    const EpisodeStats a = repeated.take_episode_stats(), b = plain.take_episode_stats();
    EXPECT_EQ(a.count.item<int64_t>(), 4 * kN);
    EXPECT_TRUE(at::equal(a.return_sum, b.return_sum));
    EXPECT_EQ(a.length_sum.item<int64_t>(), 4 * kN * held.max_episode_steps);
  }
}

// A population's VecEnv: agent k's block starts, steps, resets and counts exactly as agent
// k's own VecEnv, through staggered first episodes and two resets, so that stepping all the
// agents at once is stepping each alone.
// Agents 0 and 2 stagger their first episodes, agent 1 does not (each flag is its agent's).
TEST(VecEnvTest, APopulationsBlocksAreItsAgentsOwnEnvs) {
  constexpr int64_t kN = 7;
  const EnvParams mountain_car{EnvId::kMountainCar, 1, 200, 0};
  for (EnvParams base : {point_mass(1), point_mass(3), pendulum(), mountain_car}) {
    base.max_episode_steps = 20;
    std::vector<EnvParams> agents;
    std::vector<std::unique_ptr<VecEnv>> alone;
    for (const uint64_t seed : {3u, 8u, 11u}) {
      base.seed = seed;
      agents.push_back(base);
      alone.push_back(std::make_unique<VecEnv>(base, kN, kCpu));
      if (seed != 8u) alone.back()->stagger_time_limits();
    }
    VecEnv all(agents, kN, kCpu);
    ASSERT_EQ(all.num_envs(), 3 * kN);
    ASSERT_EQ(all.agents(), 3);
    all.agent(0).stagger_time_limits();
    all.agent(2).stagger_time_limits();
    at::Generator gen = at::detail::createCPUGenerator(7);
    const auto block = [&](const at::Tensor& t, int64_t k) { return t.narrow(0, k * kN, kN); };
    for (int t = 0; t < 45; ++t) {
      const at::Tensor a = random_actions(3 * kN, all.act_dim(), gen);
      const StepResult r = all.step(a);
      for (int64_t k = 0; k < 3; ++k) {
        const StepResult want = alone[k]->step(block(a, k));
        ASSERT_TRUE(at::equal(block(r.next_obs, k), want.next_obs)) << "agent " << k << " t " << t;
        ASSERT_TRUE(at::equal(block(r.reward, k), want.reward)) << "agent " << k << " t " << t;
        ASSERT_TRUE(at::equal(block(r.truncated, k), want.truncated)) << "agent " << k;
        ASSERT_TRUE(at::equal(block(r.terminated, k), want.terminated)) << "agent " << k;
        ASSERT_TRUE(at::equal(block(all.obs(), k), alone[k]->obs())) << "agent " << k;
      }
    }
    for (int64_t k = 0; k < 3; ++k) {
      VecEnv view = all.agent(k);
      EXPECT_EQ(view.params().seed, agents[k].seed);
      const EpisodeStats got = view.take_episode_stats(), want = alone[k]->take_episode_stats();
      EXPECT_EQ(got.count.item<int64_t>(), want.count.item<int64_t>()) << "agent " << k;
      EXPECT_GE(got.count.item<int64_t>(), kN) << "a first episode ended, then one more";
      EXPECT_TRUE(at::equal(got.return_sum, want.return_sum)) << "agent " << k;
    }
  }
}

// Agent k's view is its VecEnv: stepping it alone (the vectorized one-axis loop over a block
// of a wider storage) moves only its block; its snapshot is its own, restorable into a
// single VecEnv; set_state and restore touch its block only.
TEST(VecEnvTest, AnAgentsViewStepsSnapshotsAndRestoresItsBlockOnly) {
  constexpr int64_t kN = 5;
  const std::vector<EnvParams> agents = {point_mass(1, 4), point_mass(1, 9)};
  VecEnv all(agents, kN, kCpu), single(agents[1], kN, kCpu);
  VecEnv view = all.agent(1);
  const at::Tensor agent0_before = all.obs().narrow(0, 0, kN).clone();
  for (int t = 0; t < 230; ++t) {  // through a reset
    const at::Tensor a = at::full({kN, 1}, 0.1f * static_cast<float>(t % 7) - 0.3f);
    ASSERT_TRUE(at::equal(view.step(a).next_obs, single.step(a).next_obs)) << "t " << t;
  }
  EXPECT_TRUE(at::equal(view.obs(), single.obs()));
  EXPECT_TRUE(at::equal(all.obs().narrow(0, kN, kN), single.obs()));
  EXPECT_TRUE(at::equal(all.obs().narrow(0, 0, kN), agent0_before)) << "agent 0 did not move";

  const VecEnvSnapshot snap = view.snapshot(), want = single.snapshot();
  EXPECT_TRUE(at::equal(snap.state, want.state));
  EXPECT_TRUE(at::equal(snap.episode, want.episode));
  EXPECT_EQ(snap.state.storage().nbytes(), static_cast<size_t>(snap.state.nbytes()))
      << "a checkpoint of one agent holds its own envs, not every agent's";
  VecEnv restored(agents[1], kN, kCpu);
  restored.restore(snap);
  EXPECT_TRUE(at::equal(restored.obs(), single.obs()));

  VecEnv other = all.agent(0);
  const VecEnvSnapshot start = other.snapshot();
  other.step(at::full({kN, 1}, 0.7f));
  ASSERT_FALSE(at::equal(all.obs().narrow(0, 0, kN), agent0_before));
  other.restore(start);
  EXPECT_TRUE(at::equal(all.obs().narrow(0, 0, kN), agent0_before));
  EXPECT_TRUE(at::equal(view.obs(), single.obs())) << "restoring agent 0 left agent 1";
  other.set_state(at::zeros({kN, other.state_dim()}));
  EXPECT_TRUE(at::equal(all.state().narrow(0, kN, kN), single.state()));
}

TEST(VecEnvTest, APopulationsAgentsDifferInTheirSeedsOnly) {
  EnvParams longer = point_mass(2, 1);
  longer.max_episode_steps = 300;
  EXPECT_THAT(error_of([&] {
                VecEnv({point_mass(2, 0), longer}, 4, kCpu);
              }),
              ::testing::HasSubstr("agent 1's max_episode_steps differs from agent 0's"));
  EXPECT_THAT(error_of([&] {
                VecEnv({point_mass(2, 0), point_mass(1, 0)}, 4, kCpu);
              }),
              ::testing::HasSubstr("agent 1's dim differs"));
  EXPECT_THAT(error_of([&] {
                VecEnv({point_mass(2, 0), pendulum(0)}, 4, kCpu);
              }),
              ::testing::HasSubstr("agent 1's env differs"));
  VecEnv two({point_mass(2, 0), point_mass(2, 1)}, 4, kCpu);
  EXPECT_THAT(error_of([&] { two.agent(2); }),
              ::testing::HasSubstr("agent 2 of 2; allowed: 0 to 1"));
  EXPECT_THAT(error_of([&] { two.agent(0).agent(0); }), ::testing::HasSubstr("already one agent"));
}

TEST(VecEnvTest, RejectsBadActionsAndStatesWithClearMessages) {
  VecEnv env(point_mass(2), 4, kCpu);
  EXPECT_THAT(error_of([&] {
                env.step(at::zeros({4, 3}));
              }),
              ::testing::HasSubstr("actions must have shape [num_envs=4, act_dim=2], got [4, 3]"));
  EXPECT_THAT(error_of([&] {
                env.step(at::zeros({4, 2}, at::kDouble));
              }),
              ::testing::HasSubstr("actions must be float32, got Double"));
  EXPECT_THAT(error_of([&] {
                env.set_state(at::zeros({3, 4}));
              }),
              ::testing::HasSubstr("states must have shape [num_envs=4, state_dim=4]"));
  EXPECT_THAT(error_of([&] {
                env.set_state(at::full({4, 4}, NAN));
              }),
              ::testing::HasSubstr("must be finite"));
  EXPECT_THAT(error_of([&] {
                env.set_state(at::full({4, 4}, 1e39, at::kDouble));
              }),
              ::testing::HasSubstr("must be finite in float32"));
  EXPECT_THAT(error_of([&] {
                env.set_state(at::zeros({4, 4}, at::kLong));
              }),
              ::testing::HasSubstr("must be floating point"));
  EXPECT_THAT(error_of([] {
                VecEnv(EnvParams{EnvId::kPendulum, 2, 200, 0}, 4, kCpu);
              }),
              ::testing::HasSubstr("pendulum has exactly 1 axis, got dim 2"));
  EXPECT_THAT(error_of([] { VecEnv(point_mass(), 0, kCpu); }),
              ::testing::HasSubstr("num_envs must be >= 1, got 0"));
  // A non-contiguous action view is accepted (and read correctly).
  VecEnv a(point_mass(2), 4, kCpu), b(point_mass(2), 4, kCpu);
  const at::Tensor wide = at::rand({4, 4});
  a.step(wide.narrow(1, 0, 2));
  b.step(wide.narrow(1, 0, 2).contiguous());
  EXPECT_TRUE(at::equal(a.obs(), b.obs()));
}

}  // namespace
}  // namespace vecsac
