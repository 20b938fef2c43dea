#include "vecsac/env/env_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace vecsac {
namespace {

using nlohmann::json;

EnvParams point_mass(int dim) {
  EnvParams p;
  p.dim = dim;
  return p;
}

TEST(EnvJson, StatesAndActionsAreReadRowMajor) {
  const FloatArray s = parse_states(json::parse(R"({"states": [[1, 2, 3, 4], [5, 6, 7, 8.5]]})"),
                                    point_mass(2), "init");
  EXPECT_EQ(s.shape, (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(s.values, (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8.5f}));
  const FloatArray a =
      parse_actions(json::parse(R"({"actions": [[[1, 2]], [[3, -4]], [[0.5, 0]]]})"), 2, "acts");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{3, 1, 2}));
  EXPECT_EQ(a.values, (std::vector<float>{1, 2, 3, -4, 0.5f, 0}));
  EXPECT_EQ(parse_env_id("pendulum"), EnvId::kPendulum);
}

// Each bad document is refused with a message that names the role, the element and what is
// allowed; long elements are shown cut short.
TEST(EnvJson, BadDocumentsNameTheElementAndWhatIsAllowed) {
  EnvParams pendulum;
  pendulum.id = EnvId::kPendulum;
  std::string long_row = "[0";
  for (int i = 0; i < 100; ++i) long_row += ",0";
  long_row += "]";
  const std::pair<std::string, std::string> states[] = {
      {R"([1, 2])", R"(init must be an object with key "states")"},
      {R"({"states": []})",
       R"(init: "states" must be a non-empty list of per-env states [theta, theta_dot])"},
      {R"({"states": [[0, 0]], "extra": 1})",
       R"(init: unknown key "extra"; the only key allowed is "states")"},
      {R"({"states": [[0, 0], [1]]})",
       "init: states[1] must be a list of 2 numbers [theta, theta_dot] (dim 1), got [1]"},
      {R"({"states": [[0, "x"]]})", R"(init: states[0][1] must be a number, got "x")"},
      {R"({"states": [[0, 1e39]]})", "init: states[0][1] = 1e+39 does not fit in float32"},
      {R"({"states": [[0, 0], )" + long_row + "]}", "got " + long_row.substr(0, 80) + "..."},
  };
  for (const auto& [doc, message] : states) {
    try {
      parse_states(json::parse(doc), pendulum, "init");
      ADD_FAILURE() << doc;
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr(message)) << doc;
    }
  }
  const std::pair<std::string, std::string> actions[] = {
      {R"({"actions": [[]]})",
       "acts: actions[0] must be a non-empty list of per-env actions of shape [T][N][1]"},
      {R"({"actions": [[[0]], [[0], [1]]]})",
       "acts: actions[1] must list 1 envs like actions[0] of shape [T][N][1], got 2 entries"},
      {R"({"actions": [[[0, 1]]]})",
       "acts: actions[0][0] must be a list of 1 numbers of shape [T][N][1], got [0,1]"},
      {R"({"actions": [[[null]]]})", "acts: actions[0][0][0] must be a number, got null"},
  };
  for (const auto& [doc, message] : actions) {
    try {
      parse_actions(json::parse(doc), 1, "acts");
      ADD_FAILURE() << doc;
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr(message)) << doc;
    }
  }
  EXPECT_THROW(parse_env_id("cartpole"), std::invalid_argument);
}

}  // namespace
}  // namespace vecsac
