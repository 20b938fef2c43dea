/// @brief AgentGroup: a population's iteration costs the same ops for any number of agents.
#include "vecsac/sac/agent_group.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "support/op_count.h"
#include "support/tiny_config.h"
#include "vecsac/sac/train_iteration.h"

namespace vecsac {
namespace {

const c10::Device kCpu(c10::kCPU);

struct Counts {
  int64_t explore = 0, update = 0;
};

// The ops and launches of one exploring and one updating iteration of k agents (each counted
// after one warm iteration of its kind, which allocates what later ones reuse).
Counts iteration_ops(int64_t k) {
  std::vector<Config> configs;
  for (int64_t j = 0; j < k; ++j) {
    Config c = testing::tiny_config(2000);
    c.run.seed = j;
    c.sac.tau = 0.005 * static_cast<double>(j + 1);
    c.sac.learning_rate_linear = j % 2 == 0;  // a schedule for some agents only
    validate(c);
    configs.push_back(c);
  }
  AgentGroup group(configs, kCpu);
  std::vector<std::unique_ptr<TrainingParts>> parts;
  std::vector<std::unique_ptr<TrainingState>> states;
  std::vector<TrainingState*> bound;
  for (int64_t j = 0; j < k; ++j) {
    parts.push_back(std::make_unique<TrainingParts>(configs[j], kCpu, &group.seat(j)));
    states.push_back(std::make_unique<TrainingState>(parts.back()->ref()));
    bound.push_back(states.back().get());
  }
  group.bind(bound);
  const SacConfig& sac = configs.front().sac;
  const LoopCounters& c = states.front()->counters;
  Counts counts;
  group.iteration();
  counts.explore = testing::ops_and_launches([&] { group.iteration(); });
  EXPECT_LT(c.global_step, sac.learning_starts);
  while (!updates_due(c, sac)) group.iteration();
  while (true) {  // warm: an updating iteration
    group.iteration();
    if (updates_due(c, sac)) break;
  }
  EXPECT_EQ(sac.train_freq, 1) << "every iteration below updates";
  counts.update = testing::ops_and_launches([&] { group.iteration(); });
  for (const auto& s : states) EXPECT_EQ(s->counters.global_step, c.global_step);
  return counts;
}

// Acting or exploring, the env step, the replay insert, and each gradient step's draw and
// update are each one op for the whole group: a population of 5 launches what one agent does.
TEST(AgentGroupTest, AnIterationsOpCountDoesNotGrowWithTheAgents) {
  const Counts one = iteration_ops(1);
  // Exploring: the uniform actions, the obs copy for the replay, the step, the insert.
  EXPECT_EQ(one.explore, 4);
  std::printf("one iteration: %lld ops exploring, %lld updating (2 gradient steps)\n",
              static_cast<long long>(one.explore), static_cast<long long>(one.update));
  for (const int64_t k : {2, 5}) {
    const Counts many = iteration_ops(k);
    EXPECT_EQ(many.explore, one.explore) << k << " agents";
    EXPECT_EQ(many.update, one.update) << k << " agents";
  }
}

}  // namespace
}  // namespace vecsac
