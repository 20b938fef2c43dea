/// @brief SelectedPolicy: which actor it keeps, and what a checkpoint restores.
#include "vecsac/sac/policy_selection.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <sstream>
#include <vector>

#include "vecsac/util/generator.h"

namespace vecsac {
namespace {

const c10::Device kCpu(c10::kCPU);

Actor actor_with_seed(uint64_t seed) {
  return Actor(2, 1, std::vector<int64_t>{8, 8}, 2.0, make_generator(kCpu, seed));
}

bool same_weights(const Actor& a, const Actor& b) {
  const auto pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    if (!at::equal(pa[i], pb[i])) return false;
  }
  return true;
}

TEST(SelectedPolicyTest, KeepsTheBestScoreAndTheOlderOnATieNeverNaN) {
  SelectedPolicy s(2, 1, std::vector<int64_t>{8, 8}, 2.0, kCpu, 4);
  EXPECT_TRUE(s.empty());
  const Actor a = actor_with_seed(1), b = actor_with_seed(2), c = actor_with_seed(3);
  s.consider(a, -5.0, 100);
  EXPECT_EQ(s.step, 100);
  EXPECT_TRUE(same_weights(s.actor, a));
  s.consider(b, -5.0, 200);  // tie: the older stays
  s.consider(c, NAN, 300);
  s.consider(c, -7.0, 400);
  EXPECT_EQ(s.step, 100);
  EXPECT_TRUE(same_weights(s.actor, a));
  s.consider(b, -4.0, 500);
  EXPECT_EQ(s.step, 500);
  EXPECT_EQ(s.score, -4.0);
  EXPECT_TRUE(same_weights(s.actor, b));
  EXPECT_FALSE(same_weights(s.actor, a)) << "a copy, not an alias of the last candidate";
}

TEST(SelectedPolicyTest, LoadRestoresItAndDropsOneScoredOnOtherStarts) {
  SelectedPolicy saved(2, 1, std::vector<int64_t>{8, 8}, 2.0, kCpu, 4);
  saved.consider(actor_with_seed(1), -3.5, 700);
  torch::serialize::OutputArchive out;
  saved.save(out);
  std::ostringstream bytes;
  out.save_to(bytes);
  auto read = [&](int64_t episodes) {
    auto s =
        std::make_unique<SelectedPolicy>(2, 1, std::vector<int64_t>{8, 8}, 2.0, kCpu, episodes);
    torch::serialize::InputArchive in;
    std::istringstream is(bytes.str());
    in.load_from(is);
    const bool loaded = s->load(in);
    return std::make_pair(loaded, std::move(s));
  };
  const auto [same, restored] = read(4);
  EXPECT_TRUE(same);
  EXPECT_EQ(restored->step, 700);
  EXPECT_EQ(restored->score, -3.5);
  EXPECT_TRUE(same_weights(restored->actor, saved.actor));
  const auto [other, dropped] = read(8);
  EXPECT_FALSE(other);
  EXPECT_TRUE(dropped->empty());
  EXPECT_TRUE(std::isinf(dropped->score));
}

}  // namespace
}  // namespace vecsac
