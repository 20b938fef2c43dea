/// @brief A population of K agents in one FusedSacUpdate against K single-agent engines:
/// agent k of the population is agent k alone (issue #15 §3), at the level of the update
/// and of acting, and the population's launch count is one agent's.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "support/cuda_gpu.h"
#include "vecsac/nn/launch_count.h"
#include "vecsac/random/random_stream.h"
#include "vecsac/sac/fused_update.h"
#include "vecsac/util/generator.h"

namespace vecsac {
namespace {

const c10::Device kCpu(c10::kCPU);
constexpr int64_t kObs = 3, kAct = 2, kBatch = 70, kAgents = 3;
const std::vector<int64_t> kPi = {24, 24}, kQf = {16, 16};

SacConstants constants(bool relative) {
  return SacConstants{0.95f, 2.0f, -2.0f, relative ? 0.3f : 0.0f, true, 0.9, 0.999, 1e-8f};
}

std::unique_ptr<FusedSacUpdate> engine(int64_t agents, bool relative) {
  auto e = std::make_unique<FusedSacUpdate>(kObs, kAct, kPi, kQf, constants(relative), 0.05f, kCpu,
                                            agents);
  e->set_learning_rate(1e-3);
  return e;
}

// Agent k's single engine gets random parameters of its own (seed 100 + k) and a
// temperature of its own; the population takes the same values into member k.
void init_single(FusedSacUpdate& e, int64_t k) {
  at::Generator gen = make_generator(kCpu, 100 + k);
  for (at::Tensor* t : {&e.actor_params, &e.critic_params}) t->uniform_(-0.4, 0.4, gen);
  e.target_params.copy_(e.critic_params);
  e.scalars[kLogAlpha] = std::log(0.05 * (k + 1));
}

// Member `e` (of `per_agent` per agent: 1 for actors, 2 for critics) of every layer of a
// population's flat buffer, as the single engine's buffer of that agent.
void copy_into(const FlatMlp& pop_mlp, const at::Tensor& pop, const FlatMlp& single_mlp,
               const at::Tensor& single, int64_t k, int64_t per_agent) {
  const auto dst = pop_mlp.parameter_views(pop);
  const auto src = single_mlp.parameter_views(single);
  for (size_t i = 0; i < dst.size(); ++i) dst[i].narrow(0, k * per_agent, per_agent).copy_(src[i]);
}

at::Tensor member_of(const FlatMlp& pop_mlp, const at::Tensor& pop, int64_t k, int64_t per_agent) {
  std::vector<at::Tensor> parts;
  for (const at::Tensor& v : pop_mlp.parameter_views(pop)) {
    parts.push_back(v.narrow(0, k * per_agent, per_agent).reshape({-1}));
  }
  return at::cat(parts);
}

at::Tensor flat_of(const FlatMlp& mlp, const at::Tensor& flat) {
  std::vector<at::Tensor> parts;
  for (const at::Tensor& v : mlp.parameter_views(flat)) parts.push_back(v.reshape({-1}));
  return at::cat(parts);
}

std::vector<RandomStream*> pointers(std::vector<RandomStream>& streams) {
  std::vector<RandomStream*> out;
  for (RandomStream& s : streams) out.push_back(&s);
  return out;
}

Batch random_batch(at::Generator& gen) {
  Batch b;
  b.obs = at::randn({kBatch, kObs}, gen);
  b.act = (at::rand({kBatch, kAct}, gen) * 2 - 1) * 2;
  b.reward = -at::rand({kBatch}, gen) * 3;
  b.next_obs = b.obs + 0.1 * at::randn({kBatch, kObs}, gen);
  b.terminated = (at::rand({kBatch}, gen) < 0.2).to(at::kFloat);
  return b;
}

Batch concat(const std::vector<Batch>& bs) {
  auto cat = [&](at::Tensor Batch::*field) {
    std::vector<at::Tensor> parts;
    for (const Batch& b : bs) parts.push_back(b.*field);
    return at::cat(parts);
  };
  return {cat(&Batch::obs), cat(&Batch::act), cat(&Batch::reward), cat(&Batch::next_obs),
          cat(&Batch::terminated)};
}

// Every buffer of agent k in the population equals its single engine's, bit for bit: the
// population runs the same kernels on the same rows, each element summed in the same order.
void expect_agent_equals_single(const FusedSacUpdate& pop, const FusedSacUpdate& single, int64_t k,
                                const char* when) {
  const FlatMlp &pa = pop.actor_mlp(), &pc = pop.critic_mlp();
  const FlatMlp &sa = single.actor_mlp(), &sc = single.critic_mlp();
  EXPECT_TRUE(at::equal(member_of(pa, pop.actor_params, k, 1), flat_of(sa, single.actor_params)))
      << "actor, agent " << k << ", " << when;
  EXPECT_TRUE(at::equal(member_of(pc, pop.critic_params, k, 2), flat_of(sc, single.critic_params)))
      << "critics, agent " << k << ", " << when;
  EXPECT_TRUE(at::equal(member_of(pc, pop.target_params, k, 2), flat_of(sc, single.target_params)))
      << "targets, agent " << k << ", " << when;
  EXPECT_TRUE(
      at::equal(member_of(pa, pop.actor_exp_avg_sq, k, 1), flat_of(sa, single.actor_exp_avg_sq)))
      << "actor Adam, agent " << k << ", " << when;
  EXPECT_TRUE(at::equal(pop.scalars.narrow(0, k * kNumSacScalars, kNumSacScalars), single.scalars))
      << "temperature, Adam step and statistics, agent " << k << ", " << when;
}

class PopulationUpdateTest : public ::testing::TestWithParam<bool> {};

TEST_P(PopulationUpdateTest, AgentKOfAPopulationIsAgentKAlone) {
  const bool relative = GetParam();
  std::vector<std::unique_ptr<FusedSacUpdate>> singles;
  auto pop = engine(kAgents, relative);
  std::vector<RandomStream> single_noise, pop_noise;
  std::vector<at::Generator> data_gens;
  for (int64_t k = 0; k < kAgents; ++k) {
    singles.push_back(engine(1, relative));
    init_single(*singles[k], k);
    copy_into(pop->actor_mlp(), pop->actor_params, singles[k]->actor_mlp(),
              singles[k]->actor_params, k, 1);
    for (auto [to, from] : {std::pair{&pop->critic_params, &singles[k]->critic_params},
                            {&pop->target_params, &singles[k]->target_params}}) {
      copy_into(pop->critic_mlp(), *to, singles[k]->critic_mlp(), *from, k, 2);
    }
    pop->scalars.narrow(0, k * kNumSacScalars, kNumSacScalars).copy_(singles[k]->scalars);
    single_noise.emplace_back(7 + k, kCpu);
    pop_noise.emplace_back(7 + k, kCpu);
    data_gens.push_back(make_generator(kCpu, 50 + k));
  }
  LockstepStreams pop_streams(pointers(pop_noise));
  for (int step = 1; step <= 30; ++step) {
    std::vector<Batch> batches;
    for (int64_t k = 0; k < kAgents; ++k) batches.push_back(random_batch(data_gens[k]));
    const bool targets = step % 2 == 0;
    for (int64_t k = 0; k < kAgents; ++k) {
      singles[k]->update(batches[k], single_noise[k].keys(), single_noise[k].next(), targets);
    }
    pop->update(concat(batches), pop_streams.keys(), pop_streams.next(), targets);
    if (step == 1 || step == 30) {
      for (int64_t k = 0; k < kAgents; ++k) {
        expect_agent_equals_single(*pop, *singles[k], k, step == 1 ? "step 1" : "step 30");
      }
    }
  }
  // The agents did not all learn alike: their temperatures started apart and stay apart.
  EXPECT_NE(pop->scalars[kLogAlpha].item<float>(),
            pop->scalars[kNumSacScalars + kLogAlpha].item<float>());

  // Acting: agent k's actions for its envs are its single engine's, from the same stream.
  const at::Tensor obs = at::randn({kAgents * 5, kObs});
  std::vector<RandomStream> act_single, act_pop;
  for (int64_t k = 0; k < kAgents; ++k) {
    act_single.emplace_back(90 + k, kCpu);
    act_pop.emplace_back(90 + k, kCpu);
  }
  LockstepStreams act_streams(pointers(act_pop));
  const at::Tensor actions = pop->act(obs, act_streams.keys(), act_streams.next()).clone();
  ASSERT_EQ(actions.sizes(), (std::vector<int64_t>{kAgents * 5, kAct}));
  for (int64_t k = 0; k < kAgents; ++k) {
    const at::Tensor own = singles[k]->act(obs.narrow(0, k * 5, 5).contiguous(),
                                           act_single[k].keys(), act_single[k].next());
    EXPECT_TRUE(at::equal(actions.narrow(0, k * 5, 5), own)) << "agent " << k;
  }

  // Evaluating: agent k's deterministic actions are its single engine's, the squashed mean
  // (a sample whose noise is zero: inside the sample's bounds, not on them), untouched by
  // stochastic acting on as many rows in between.
  const at::Tensor mean = pop->act_deterministic(obs).clone();
  pop->act(obs, act_streams.keys(), act_streams.next());
  EXPECT_TRUE(at::equal(pop->act_deterministic(obs), mean)) << "acting changed the mean's noise";
  EXPECT_FALSE(at::equal(mean, actions)) << "the mean is not a sample";
  for (int64_t k = 0; k < kAgents; ++k) {
    const at::Tensor own = singles[k]->act_deterministic(obs.narrow(0, k * 5, 5).contiguous());
    EXPECT_TRUE(at::equal(mean.narrow(0, k * 5, 5), own)) << "agent " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(CriticWeights, PopulationUpdateTest, ::testing::Values(false, true),
                         [](const auto& info) {
                           return info.param ? std::string("Relative") : std::string("Uniform");
                         });

// Agents with different hyperparameters (the ones a population may vary: learning rate, tau,
// gamma, target entropy, critic weights, initial temperature) are each the single run
// with theirs, bit for bit, including under a learning-rate schedule.
TEST(PopulationUpdateTest, AgentsWithTheirOwnHyperparametersAreEachTheirSingleRun) {
  const AgentHyperparameters hyper[kAgents] = {{1e-3, 0.05, 0.95, -2.0, 0.3, 0.1},
                                               {3e-3, 0.01, 0.99, -1.0, 0.0, 1.0},
                                               {5e-4, 0.2, 0.9, -4.0, 1.5, 0.02}};
  auto pop = engine(kAgents, false);
  std::vector<std::unique_ptr<FusedSacUpdate>> singles;
  std::vector<RandomStream> single_noise, pop_noise;
  std::vector<at::Generator> data_gens;
  for (int64_t k = 0; k < kAgents; ++k) {
    const AgentHyperparameters& h = hyper[k];
    SacConstants c = constants(h.weight_offset > 0);
    c.gamma = static_cast<float>(h.gamma);
    c.target_entropy = static_cast<float>(h.target_entropy);
    c.weight_offset = static_cast<float>(h.weight_offset);
    singles.push_back(std::make_unique<FusedSacUpdate>(kObs, kAct, kPi, kQf, c,
                                                       static_cast<float>(h.tau), kCpu, 1));
    init_single(*singles[k], k);
    singles[k]->set_learning_rate(h.learning_rate);
    singles[k]->scalars[kLogAlpha] = std::log(h.initial_alpha);
    copy_into(pop->actor_mlp(), pop->actor_params, singles[k]->actor_mlp(),
              singles[k]->actor_params, k, 1);
    for (auto [to, from] : {std::pair{&pop->critic_params, &singles[k]->critic_params},
                            {&pop->target_params, &singles[k]->target_params}}) {
      copy_into(pop->critic_mlp(), *to, singles[k]->critic_mlp(), *from, k, 2);
    }
    pop->set_agent_hyperparameters(k, h);
    single_noise.emplace_back(7 + k, kCpu);
    pop_noise.emplace_back(7 + k, kCpu);
    data_gens.push_back(make_generator(kCpu, 50 + k));
  }
  LockstepStreams pop_streams(pointers(pop_noise));
  for (int step = 1; step <= 20; ++step) {
    const double factor = 1.0 - step / 40.0;  // a linear schedule, as lin_<lr>
    pop->set_learning_rate_factor(factor);
    std::vector<Batch> batches;
    for (int64_t k = 0; k < kAgents; ++k) {
      batches.push_back(random_batch(data_gens[k]));
      // The population scales each float32 base rate by the factor in float32: the single
      // run's rate is that product (exact in double, then rounded as float32 rounds it).
      singles[k]->set_learning_rate(
          static_cast<double>(static_cast<float>(hyper[k].learning_rate)) *
          static_cast<double>(static_cast<float>(factor)));
      singles[k]->update(batches[k], single_noise[k].keys(), single_noise[k].next(), true);
    }
    pop->update(concat(batches), pop_streams.keys(), pop_streams.next(), true);
  }
  for (int64_t k = 0; k < kAgents; ++k) {
    const FlatMlp &pa = pop->actor_mlp(), &pc = pop->critic_mlp();
    EXPECT_TRUE(at::equal(member_of(pa, pop->actor_params, k, 1),
                          flat_of(singles[k]->actor_mlp(), singles[k]->actor_params)))
        << "actor, agent " << k;
    EXPECT_TRUE(at::equal(member_of(pc, pop->target_params, k, 2),
                          flat_of(singles[k]->critic_mlp(), singles[k]->target_params)))
        << "targets, agent " << k;
    for (const SacScalar slot : {kLogAlpha, kStatQfLoss, kStatActorLoss, kStatEntropy}) {
      EXPECT_EQ(pop->scalars[k * kNumSacScalars + slot].item<float>(),
                singles[k]->scalars[slot].item<float>())
          << "slot " << slot << ", agent " << k;
    }
  }
  // The learning rates differ, so the agents' steps differ: agent 1 (3e-3) moved its actor
  // further from where it started than agent 2 (5e-4).
  const FlatMlp& pa = pop->actor_mlp();
  auto moved = [&](int64_t k) {
    FusedSacUpdate fresh(kObs, kAct, kPi, kQf, constants(false), 0.05f, kCpu, 1);
    init_single(fresh, k);
    return (member_of(pa, pop->actor_params, k, 1) - flat_of(fresh.actor_mlp(), fresh.actor_params))
        .abs()
        .sum()
        .item<double>();
  };
  EXPECT_GT(moved(1), 2 * moved(2));
}

TEST(PopulationUpdateTest, RefusesHyperparametersOutOfRange) {
  auto e = engine(2, false);
  EXPECT_THROW(e->set_agent_hyperparameters(2, {1e-3, 0.01, 0.9, -1.0, 0.0, 1.0}), c10::Error);
  try {
    e->set_agent_hyperparameters(1, {1e-3, 1.5, 0.9, -1.0, 0.0, 1.0});
    FAIL() << "tau 1.5 was taken";
  } catch (const c10::Error& err) {
    EXPECT_NE(std::string(err.what()).find("tau 1.5"), std::string::npos) << err.what();
  }
}

// The population's launches are one agent's: every GEMM and kernel runs once for all.
TEST(PopulationUpdateTest, LaunchCountDoesNotGrowWithTheAgents) {
  at::Generator data = make_generator(kCpu, 3);
  std::vector<int64_t> launches;
  for (const int64_t agents : {int64_t{1}, int64_t{4}}) {
    auto e = engine(agents, true);
    std::vector<RandomStream> noise;
    std::vector<Batch> batches;
    for (int64_t k = 0; k < agents; ++k) {
      noise.emplace_back(4 + k, kCpu);
      batches.push_back(random_batch(data));
    }
    LockstepStreams streams(pointers(noise));
    const Batch b = concat(batches);
    e->update(b, streams.keys(), streams.next(), true);
    const int64_t before = launch_count().load();
    e->update(b, streams.keys(), streams.next(), true);
    launches.push_back(launch_count().load() - before);
  }
  EXPECT_EQ(launches[0], launches[1]);
}

TEST(PopulationUpdateTest, RefusesABatchNotSplitIntoItsAgents) {
  auto e = engine(kAgents, false);
  at::Generator data = make_generator(kCpu, 5);
  const at::Tensor three = at::arange(kAgents, at::kLong), two = at::arange(2, at::kLong);
  const Batch odd = random_batch(data);  // 70 rows: not a multiple of 3
  try {
    e->update(odd, three, 0, false);
    FAIL() << "a batch of 70 rows was taken for 3 agents";
  } catch (const c10::Error& err) {
    EXPECT_NE(std::string(err.what()).find("multiple of 3 rows"), std::string::npos) << err.what();
  }
  try {
    e->update(concat({odd, odd, odd}), two, 0, false);
    FAIL() << "2 noise keys were taken for 3 agents";
  } catch (const c10::Error& err) {
    EXPECT_NE(std::string(err.what()).find("3 agents need as many noise stream keys, got 2"),
              std::string::npos)
        << err.what();
  }
}

// Where a GPU is: a population of three agents with their own hyperparameters on CUDA
// against the same population on the CPU, fed the same batches and noise. cuBLAS and
// vecsac's CPU kernels sum in other orders, so the bar is the single-agent CUDA test's
// coarse one after 10 steps; each agent's scalar slots on their own.
TEST(PopulationUpdateCudaTest, MatchesTheCpuPopulation) {
  VECSAC_REQUIRE_CUDA_GPU();
  const c10::Device cuda(c10::kCUDA, 0);
  const AgentHyperparameters hyper[kAgents] = {{1e-3, 0.05, 0.95, -2.0, 0.3, 0.1},
                                               {3e-3, 0.01, 0.99, -1.0, 0.0, 1.0},
                                               {5e-4, 0.2, 0.9, -4.0, 1.5, 0.02}};
  auto cpu = engine(kAgents, false);
  FusedSacUpdate gpu(kObs, kAct, kPi, kQf, constants(false), 0.05f, cuda, kAgents);
  at::Generator init = make_generator(kCpu, 11), data = make_generator(kCpu, 12);
  for (at::Tensor* t : {&cpu->actor_params, &cpu->critic_params}) t->uniform_(-0.4, 0.4, init);
  cpu->target_params.copy_(cpu->critic_params);
  for (int64_t k = 0; k < kAgents; ++k) {
    cpu->set_agent_hyperparameters(k, hyper[k]);
    gpu.set_agent_hyperparameters(k, hyper[k]);
  }
  gpu.actor_params.copy_(cpu->actor_params);
  gpu.critic_params.copy_(cpu->critic_params);
  gpu.target_params.copy_(cpu->target_params);
  for (int step = 0; step < 10; ++step) {
    std::vector<Batch> parts;
    for (int64_t k = 0; k < kAgents; ++k) parts.push_back(random_batch(data));
    const Batch b = concat(parts);
    const at::Tensor eps = at::randn({kAgents, 2, kBatch, kAct}, data);
    Batch bg = b;
    for (at::Tensor* t : {&bg.obs, &bg.act, &bg.reward, &bg.next_obs, &bg.terminated}) {
      *t = t->to(cuda);
    }
    cpu->set_learning_rate_factor(1.0 - step / 20.0);
    gpu.set_learning_rate_factor(1.0 - step / 20.0);
    cpu->update_with_noise(b, eps, true);
    gpu.update_with_noise(bg, eps.to(cuda), true);
  }
  auto rel_err = [](const at::Tensor& a, const at::Tensor& b) {
    return (a - b).abs().max().item<double>() / std::max(b.abs().max().item<double>(), 1e-30);
  };
  EXPECT_LT(rel_err(gpu.actor_params.cpu(), cpu->actor_params), 1e-2);
  EXPECT_LT(rel_err(gpu.critic_params.cpu(), cpu->critic_params), 1e-2);
  EXPECT_LT(rel_err(gpu.target_params.cpu(), cpu->target_params), 1e-2);
  const at::Tensor sc = cpu->scalars, sg = gpu.scalars.cpu();
  for (int64_t s = 0; s < kAgents * kNumSacScalars; ++s) {
    const double x = sc[s].item<double>(), y = sg[s].item<double>();
    EXPECT_NEAR(y, x, 1e-3 * std::max(1.0, std::abs(x)))
        << "agent " << s / kNumSacScalars << ", slot " << s % kNumSacScalars;
  }
  // Acting on CUDA: K agents' actions in their bounds, one row per env of each agent.
  const at::Tensor keys = at::arange(kAgents, at::kLong).to(cuda);
  const at::Tensor actions = gpu.act(at::randn({kAgents * 7, kObs}).to(cuda), keys, 0).cpu();
  EXPECT_EQ(actions.sizes(), (std::vector<int64_t>{kAgents * 7, kAct}));
  EXPECT_TRUE(at::all(actions.abs() <= 2.0).item<bool>());
}

}  // namespace
}  // namespace vecsac
