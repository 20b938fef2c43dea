/// @brief evaluate_agents: K agents evaluated at once are each agent evaluated alone.
#include "vecsac/sac/evaluate.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <vector>

namespace vecsac {
namespace {

const c10::Device kCpu(c10::kCPU);

// A feedback law whose gain is agent k's (rows k * episodes, ...), so the rows of the policy
// and of the env blocks must agree for each agent to get its own actions.
at::Tensor feedback(const at::Tensor& obs, const at::Tensor& gain) {
  return (obs.narrow(1, 0, 1) * gain - obs.narrow(1, 1, 1) * 0.3).clamp(-1, 1);
}

TEST(EvaluateTest, AgentsEvaluatedTogetherAreEachEvaluatedAlone) {
  for (const int max_steps : {200, 7}) {
    std::vector<EnvParams> agents;
    for (const uint64_t seed : {5u, 6u, 9u}) {
      agents.push_back(EnvParams{EnvId::kPointMass, 1, max_steps, seed});
    }
    const at::Tensor starts = at::tensor({0.5f, -0.2f, -0.9f, 0.1f, 0.3f, 0.0f}).view({3, 2});
    const std::vector<float> gains = {-0.8f, -0.2f, -0.8f};
    const at::Tensor gain = at::tensor(gains).repeat_interleave(3).unsqueeze(1);
    const auto all = [&](const at::Tensor& obs) { return feedback(obs, gain); };
    for (const at::Tensor& init : {at::Tensor(), starts}) {
      const std::vector<EvalResult> together = evaluate_agents(all, agents, 3, kCpu, init);
      ASSERT_EQ(together.size(), 3u);
      for (size_t k = 0; k < agents.size(); ++k) {
        const auto own = [&](const at::Tensor& obs) {
          return feedback(obs, at::full({}, gains[k]));
        };
        const EvalResult alone = evaluate_agents(own, {agents[k]}, 3, kCpu, init).front();
        EXPECT_EQ(together[k].returns, alone.returns) << "agent " << k;
        EXPECT_TRUE(at::equal(together[k].initial_obs, alone.initial_obs)) << "agent " << k;
        EXPECT_EQ(together[k].mean, alone.mean);
        EXPECT_EQ(together[k].optimal_returns, alone.optimal_returns);
      }
      if (!init.defined()) {
        EXPECT_NE(together[0].returns, together[1].returns) << "each agent resets from its seed";
      } else {
        EXPECT_EQ(together[0].returns, together[2].returns) << "the same starts and gain";
        EXPECT_NE(together[0].returns, together[1].returns) << "another gain";
      }
    }
  }
}

}  // namespace
}  // namespace vecsac
