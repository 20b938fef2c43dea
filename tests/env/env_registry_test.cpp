/// @brief The env registry: every env declared once, found by name and id, its traits read
/// by the places that used to spell them out.
#include "vecsac/env/env_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "vecsac/config/config.h"
#include "vecsac/env/env_json.h"
#include "vecsac/env/vec_env.h"

namespace vecsac {
namespace {

TEST(EnvRegistryTest, EveryEnvHasItsOwnIdInOrderAndItsOwnName) {
  std::set<std::string> names;
  int index = 0;
  for_each_env([&](auto env) {
    EXPECT_EQ(static_cast<int>(env.kId), index++)
        << env.kName << ": Envs lists them in EnvId order";
    EXPECT_TRUE(names.insert(env.kName).second) << env.kName << " twice";
    EnvId found{};
    ASSERT_TRUE(find_env(env.kName, found));
    EXPECT_EQ(found, env.kId);
    EXPECT_STREQ(env_name(env.kId), env.kName);
    EXPECT_THAT(env_names(), ::testing::HasSubstr(env.kName));
    EXPECT_GE(env.kMaxDim, 1);
    EXPECT_GT(env.kActionLimit, 0.0);
  });
  EXPECT_EQ(names.size(), env_name_list().size());
  EnvId unused{};
  EXPECT_FALSE(find_env("cartpole", unused));
}

TEST(EnvRegistryTest, VisitCallsTheEnvOfTheIdAndItsTraitsReachTheirUsers) {
  for_each_env([&](auto env) {
    using Env = decltype(env);
    bool called = false;
    visit_env(Env::kId, [&](auto other) {
      called = true;
      EXPECT_TRUE((std::is_same_v<decltype(other), Env>));
    });
    EXPECT_TRUE(called);
    EnvParams p;
    p.id = Env::kId;
    EXPECT_EQ(VecEnv(p, 2, c10::Device(c10::kCPU)).action_limit(), Env::kActionLimit);
    EXPECT_EQ(parse_env_id(Env::kName), Env::kId);
    // Config validation takes the env's axes up to its kMaxDim and names the rule beyond.
    Config c;
    c.env.id = Env::kId;
    c.env.dim = Env::kMaxDim;
    EXPECT_NO_THROW(validate(c));
    if (Env::kMaxDim < 1024) {
      c.env.dim = Env::kMaxDim + 1;
      EXPECT_THAT([&] { validate(c); }, ::testing::ThrowsMessage<std::invalid_argument>(
                                            ::testing::HasSubstr(env_dim_rule(Env::kId))));
    }
  });
  // An id no env declares (a config only parses names, so this comes from code).
  Config c;
  c.env.id = static_cast<EnvId>(99);
  EXPECT_THAT([&] { validate(c); }, ::testing::ThrowsMessage<std::invalid_argument>(
                                        ::testing::HasSubstr("must be one of " + env_names())));
}

}  // namespace
}  // namespace vecsac
