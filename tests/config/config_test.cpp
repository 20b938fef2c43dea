/// @brief Strict config parsing: a table of bad configs, each with the message it must give.
#include "vecsac/config/config.h"

#include <ATen/Context.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "vecsac/config/load_config.h"

namespace vecsac {
namespace {

using nlohmann::json;

std::string error_of(const json& doc, const std::vector<std::string>& overrides = {}) {
  try {
    json d = doc;
    for (const auto& o : overrides) apply_override(d, o);
    validate(config_from_json(d));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

TEST(ConfigTest, DefaultsAreValidAndRoundTrip) {
  const Config c = config_from_json(json::object());
  EXPECT_NO_THROW(validate(c));
  EXPECT_EQ(c.sac.learning_rate, 3e-4);
  EXPECT_EQ(c.sac.pi_arch, (std::vector<int64_t>{256, 256}));
  EXPECT_EQ(c.sac.qf_arch, (std::vector<int64_t>{256, 256}));
  const json resolved = config_to_json(c);
  EXPECT_EQ(resolved["sac"]["policy_kwargs"]["net_arch"], json::parse("[256, 256]"));
  EXPECT_EQ(config_to_json(config_from_json(resolved)), resolved);
}

// Every config shipped in configs/ loads, validates, and survives the round trip through
// the resolved config.json that a run writes.
TEST(ConfigTest, ShippedConfigsLoadValidateAndRoundTrip) {
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(VECSAC_SOURCE_DIR "/configs")) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().string());
    const Config c = load_config(entry.path().string(), {"run.device=cpu"});
    EXPECT_NO_THROW(validate(c));
    EXPECT_EQ(config_to_json(config_from_json(config_to_json(c))), config_to_json(c));
    ++seen;
  }
  EXPECT_GE(seen, 3) << "pointmass.json, pointmass_many_envs.json and pendulum.json at least";
}

TEST(ConfigTest, OverridesAreTyped) {
  json d = json::object();
  apply_override(d, "sac.tau=0.01");
  apply_override(d, "run.device=cuda:1");
  apply_override(d, "sac.ent_coef=auto_0.1");
  apply_override(d, "sac.policy_kwargs.net_arch=[64,64]");
  apply_override(d, "env.num_envs=1e3");
  apply_override(d, "sac.learning_rate=lin_0.002");
  apply_override(d, "sac.critic_loss_weight=relative_0.3");
  const Config c = config_from_json(d);
  EXPECT_EQ(c.sac.tau, 0.01);
  EXPECT_EQ(c.run.device, "cuda:1");
  EXPECT_EQ(c.sac.ent_coef, (EntCoef{true, 0.1}));
  EXPECT_EQ(c.sac.pi_arch, (std::vector<int64_t>{64, 64}));
  EXPECT_EQ(c.sac.qf_arch, (std::vector<int64_t>{64, 64}));
  EXPECT_EQ(c.env.num_envs, 1000);
  EXPECT_EQ(c.sac.learning_rate, 0.002);
  EXPECT_TRUE(c.sac.learning_rate_linear);
  EXPECT_EQ(config_to_json(c)["sac"]["learning_rate"], "lin_0.002");
  EXPECT_EQ(config_from_json(config_to_json(c)).sac.learning_rate_linear, true);
  EXPECT_EQ(c.sac.critic_weight_offset, 0.3);
  EXPECT_EQ(config_to_json(c)["sac"]["critic_loss_weight"], "relative_0.3");
  EXPECT_EQ(config_to_json(c)["sac"]["ent_coef"], "auto_0.1");
}

// The SB3 strings are parsed once into typed values, and written back in the same forms, so
// a resolved config round-trips. Configs written before the typed fields held numbers as
// text ("0.1", "-5"); those still parse to the same values.
TEST(ConfigTest, TemperatureCriticWeightAndEnvAreTypedAndRoundTrip) {
  struct Case {
    json sac;
    EntCoef ent_coef;
    std::optional<double> target_entropy;
    double offset;
  };
  for (const Case& k : std::vector<Case>{
           {json::object(), {true, 1.0}, std::nullopt, 0.0},
           {{{"ent_coef", "auto"}, {"target_entropy", "auto"}, {"critic_loss_weight", "uniform"}},
            {true, 1.0},
            std::nullopt,
            0.0},
           {{{"ent_coef", "auto_0.5"},
             {"target_entropy", -5},
             {"critic_loss_weight", "relative_2"}},
            {true, 0.5},
            -5.0,
            2.0},
           {{{"ent_coef", 0.2}, {"target_entropy", 1.5}}, {false, 0.2}, 1.5, 0.0},
           {{{"ent_coef", "0.2"}, {"target_entropy", "-5"}}, {false, 0.2}, -5.0, 0.0},
       }) {
    const Config c = config_from_json({{"sac", k.sac}});
    EXPECT_EQ(c.sac.ent_coef, k.ent_coef) << k.sac;
    EXPECT_EQ(c.sac.target_entropy, k.target_entropy) << k.sac;
    EXPECT_EQ(c.sac.critic_weight_offset, k.offset) << k.sac;
    const json written = config_to_json(c);
    EXPECT_EQ(config_to_json(config_from_json(written)), written) << k.sac;
    EXPECT_EQ(target_entropy(c.sac, 3), k.target_entropy.value_or(-3.0));
  }
  EXPECT_EQ(config_from_json({{"env", {{"name", "mountaincar"}}}}).env.id, EnvId::kMountainCar);
  EXPECT_EQ(config_to_json(config_from_json({{"env", {{"name", "pendulum"}}}}))["env"]["name"],
            "pendulum");
}

// SB3's dict form sets the actor's and the critics' widths apart, and the
// resolved config keeps that form (a list when they agree).
TEST(ConfigTest, NetArchDictSetsActorAndCriticsApart) {
  json d = json::object();
  apply_override(d, R"(sac.policy_kwargs.net_arch={"pi": [64, 64], "qf": [256, 128, 32]})");
  const Config c = config_from_json(d);
  EXPECT_NO_THROW(validate(c));
  EXPECT_EQ(c.sac.pi_arch, (std::vector<int64_t>{64, 64}));
  EXPECT_EQ(c.sac.qf_arch, (std::vector<int64_t>{256, 128, 32}));
  const json resolved = config_to_json(c);
  EXPECT_EQ(resolved["sac"]["policy_kwargs"]["net_arch"],
            json::parse(R"({"pi": [64, 64], "qf": [256, 128, 32]})"));
  const Config back = config_from_json(resolved);
  EXPECT_EQ(back.sac.pi_arch, c.sac.pi_arch);
  EXPECT_EQ(back.sac.qf_arch, c.sac.qf_arch);

  apply_override(d, R"(sac.policy_kwargs.net_arch={"pi": [32], "qf": [32]})");
  EXPECT_EQ(config_to_json(config_from_json(d))["sac"]["policy_kwargs"]["net_arch"],
            json::parse("[32]"));
}

struct BadCase {
  const char* doc;
  std::vector<std::string> overrides;
  std::vector<std::string> fragments;
};

TEST(ConfigTest, BadConfigsNameKeyValueAndWhatIsAllowed) {
  const BadCase cases[] = {
      {R"({"sac": {"tua": 0.01}})", {}, {"unknown config key 'sac.tua'", "did you mean 'sac.tau'"}},
      {R"({"sac": {"batchsize": 64}})", {}, {"'sac.batchsize'", "did you mean 'sac.batch_size'"}},
      {R"({"enviroment": {}})", {}, {"'enviroment'", "did you mean 'env'"}},
      {R"({"run": {"zzz": 1}})", {}, {"'run.zzz'", "allowed in run:", "total_timesteps"}},
      {R"({"sac": {"batch_size": "big"}})", {}, {"sac.batch_size=\"big\"", "must be an integer"}},
      {R"({"sac": {"batch_size": 2.5}})", {}, {"sac.batch_size=2.5", "must be an integer"}},
      {R"({"env": {"stagger_time_limits": 1}})",
       {},
       {"env.stagger_time_limits=1", "must be true or false"}},
      {R"({"sac": {"tau": 1.5}})", {}, {"sac.tau=1.5", "(0, 1]"}},
      {R"({"sac": {"policy_kwargs": {"net_arch": [8, 8, 8, 8, 8, 8, 8, 8]}}})",
       {},
       {"sac.policy_kwargs.net_arch=[8,8,8,8,8,8,8,8]", "1 to 7 widths"}},
      {R"({"run": {"select_episodes": -1}})", {}, {"run.select_episodes=-1", "must be >= 0"}},
      {R"({"run": {"threads": -1}})", {}, {"run.threads=-1", "must be in [0, 1024]"}},
      {R"({"run": {"threads": 5000}})", {}, {"run.threads=5000", "must be in [0, 1024]"}},
      {R"({"run": {"select_episodes": 8, "eval_freq": 0}})",
       {},
       {"run.select_episodes=8", "needs run.eval_freq > 0"}},
      {R"({"sac": {"gamma": -0.1}})", {}, {"sac.gamma=-0.1", "[0, 1]"}},
      {R"({"sac": {"learning_rate": 0}})", {}, {"sac.learning_rate=0", "> 0"}},
      {R"({"sac": {"learning_rate": "lin_fast"}})",
       {},
       {"sac.learning_rate=\"lin_fast\"", "lin_<number > 0>"}},
      {R"({"sac": {"learning_rate": "fast"}})", {}, {"sac.learning_rate=\"fast\"", "a number > 0"}},
      {R"({"sac": {"ent_coef": "automatic"}})", {}, {"sac.ent_coef=\"automatic\"", "auto_<"}},
      {R"({"sac": {"ent_coef": -0.1}})", {}, {"sac.ent_coef=-0.1", "a number > 0"}},
      {R"({"sac": {"critic_loss_weight": "relative"}})",
       {},
       {"sac.critic_loss_weight=\"relative\"", "\"uniform\" or \"relative_<offset > 0>\""}},
      {R"({"sac": {"critic_loss_weight": "relative_0"}})",
       {},
       {"sac.critic_loss_weight=\"relative_0\"", "relative_<offset > 0>"}},
      {R"({"sac": {"critic_loss_weight": "relative_inf"}})",
       {},
       {"sac.critic_loss_weight=\"relative_inf\"", "relative_<offset > 0>"}},
      {R"({"sac": {"critic_loss_weigth": "uniform"}})",
       {},
       {"'sac.critic_loss_weigth'", "did you mean 'sac.critic_loss_weight'"}},
      {R"({"sac": {"target_entropy": "high"}})",
       {},
       {"sac.target_entropy", "\"auto\" or a number"}},
      {R"({"sac": {"policy_kwargs": {"net_arch": [64, 0]}}})", {}, {"net_arch=[64,0]", ">= 1"}},
      {R"({"sac": {"policy_kwargs": {"net_arch": {"pi": [64], "qf": [64, 0]}}}})",
       {},
       {"sac.policy_kwargs.net_arch.qf=[64,0]", ">= 1"}},
      {R"({"sac": {"policy_kwargs": {"net_arch": {"pi": [64]}}}})",
       {},
       {"sac.policy_kwargs.net_arch=", "needs both \"pi\" and \"qf\""}},
      {R"({"sac": {"policy_kwargs": {"net_arch": {"pi": [64], "vf": [64]}}}})",
       {},
       {"'sac.policy_kwargs.net_arch.vf'", "did you mean"}},
      {R"({"sac": {"policy_kwargs": {"net_arch": {"pi": 64, "qf": [64]}}}})",
       {},
       {"sac.policy_kwargs.net_arch.pi=64", "list of layer widths"}},
      {R"({"sac": {"policy_kwargs": {"net_arch": 64}}})",
       {},
       {"sac.policy_kwargs.net_arch=64", R"({"pi": [...], "qf": [...]})"}},
      {R"({"sac": {"policy_kwargs": {"netarch": [64]}}})",
       {},
       {"'sac.policy_kwargs.netarch'", "net_arch"}},
      {R"({"env": {"name": "cartpole"}})", {}, {"env.name=\"cartpole\"", "pointmass, pendulum"}},
      {R"({"env": {"name": "pendulum", "dim": 2}})",
       {},
       {"env.dim=2", "pendulum has exactly 1 axis"}},
      {R"({"env": {"num_envs": 0}})", {}, {"env.num_envs=0", ">= 1"}},
      {R"({"env": {"action_repeat": 0}})",
       {},
       {"env.action_repeat=0", "[1, env.max_episode_steps"}},
      {R"({"env": {"max_episode_steps": 10, "action_repeat": 11}})",
       {},
       {"env.action_repeat=11", "[1, env.max_episode_steps (10)]"}},
      {R"({"sac": {"batch_size": 512, "buffer_size": 256}})",
       {},
       {"sac.batch_size=512", "<= sac.buffer_size (256)"}},
      {R"({"run": {"total_timesteps": 100}, "sac": {"learning_starts": 100}})",
       {},
       {"sac.learning_starts=100", "< run.total_timesteps (100)"}},
      {R"({"env": {"num_envs": 64}, "sac": {"buffer_size": 32, "batch_size": 16}})",
       {},
       {"sac.buffer_size=32", "one vector step"}},
      {R"({"run": {"seed": -1}})", {}, {"run.seed=-1", ">= 0"}},
      {R"([1, 2])", {}, {"must be a JSON object"}},
      {R"({"sac": 3})", {}, {"section 'sac' must be an object"}},
      {"{}", {"tau=0.1"}, {"--set 'tau=0.1'", "needs its section", "sac.tau"}},
      {"{}", {"sac.tau"}, {"--set 'sac.tau'", "SECTION.KEY=VALUE"}},
      {"{}", {"sac.tau=high"}, {"sac.tau=\"high\"", "must be a number"}},
      {"{}", {"run.device=cuda\xff"}, {"--set 'run.device=...'", "not valid UTF-8"}},
      {"{}", {"sac=1"}, {"--set 'sac=1'", "'sac' is a section", "e.g. --set sac.tau=0.01"}},
      {R"({"sac": {"learning_rate": "lin_-1"}})",
       {},
       {"sac.learning_rate=\"lin_-1\"", "lin_<number > 0>"}},
      {R"({"sac": {"learning_rate": "lin_nan"}})",
       {},
       {"sac.learning_rate=\"lin_nan\"", "lin_<number > 0>"}},
      {R"({"env": {"num_envs": 18446744073709551615}})",
       {},
       {"env.num_envs=18446744073709551615", "out of range"}},
  };
  for (const BadCase& c : cases) {
    const std::string msg = error_of(json::parse(c.doc), c.overrides);
    for (const auto& f : c.fragments) EXPECT_THAT(msg, ::testing::HasSubstr(f)) << c.doc;
  }
}

// Seeds are 64-bit unsigned: the largest one is a seed, not "-1".
TEST(ConfigTest, EverySixtyFourBitSeedIsAccepted) {
  const Config c = config_from_json(json::parse(R"({"run": {"seed": 18446744073709551615}})"));
  EXPECT_EQ(c.run.seed, UINT64_MAX);
  EXPECT_EQ(config_to_json(c)["run"]["seed"].get<uint64_t>(), UINT64_MAX);
}

TEST(ConfigTest, CudaDeviceWithoutGpuFailsBeforeAnyWork) {
  if (!at::hasCUDA()) {
    try {
      load_config("", {"run.device=cuda"});
      FAIL() << "expected an error";
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr("device 'cuda' is not available"));
    }
  }
  EXPECT_THROW(load_config("", {"run.device=gpu"}), std::invalid_argument);
}

}  // namespace
}  // namespace vecsac
