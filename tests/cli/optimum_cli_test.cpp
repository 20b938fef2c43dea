/// @brief `vecsac optimum` end to end: the notebook starts, dims, quadrature, one-line errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "support/cli_test.h"
#include "support/run_cli.h"
#include "vecsac/io/json_file.h"

namespace vecsac {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using testing::run_cli;

class OptimumCliTest : public testing::CliTest {};

TEST_F(OptimumCliTest, HelpListsEveryFlagWithDefaults) {
  const auto r = run_cli("optimum --help");
  EXPECT_EQ(r.code, 0);
  for (const char* f : {"--init", "--dim", "=1", "--json", "--quadrature", "Gauss-Legendre"}) {
    EXPECT_THAT(r.output, HasSubstr(f));
  }
}

TEST_F(OptimumCliTest, NotebookStartsGiveTheKnownOptimumWithACertificate) {
  const std::string out = path("opt.json");
  const auto r = run_cli("optimum --init " + std::string(VECSAC_SOURCE_DIR) +
                         "/configs/eval/pointmass_notebook_starts.json --json " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("mean -2.515"));
  const json doc = read_json_file(out, "optimum");
  ASSERT_EQ(doc["returns"].size(), 8u);
  EXPECT_NEAR(doc["mean"].get<double>(), -2.5150, 5e-5);
  const json& c = doc["certificate"];
  for (const char* k : {"stationarity", "primal_feasibility", "dual_feasibility", "complementarity",
                        "duality_gap_bound"}) {
    ASSERT_TRUE(c.contains(k)) << k;
    EXPECT_GE(c[k].get<double>(), 0) << k;
    EXPECT_LE(c[k].get<double>(), 1e-12) << k;
  }
  EXPECT_EQ(c["fallbacks"], 0);
}

TEST_F(OptimumCliTest, Dim2ReturnIsTheSumOfItsAxes) {
  const std::string both = file("both.json", R"({"states": [[1, 0.25, 1, -0.5]]})");
  const std::string one = file("one.json", R"({"states": [[1, 1], [0.25, -0.5]]})");
  ASSERT_EQ(run_cli("optimum --dim 2 --init " + both + " --json " + path("2.json")).code, 0);
  ASSERT_EQ(run_cli("optimum --init " + one + " --json " + path("1.json")).code, 0);
  const json d2 = read_json_file(path("2.json"), "2"), d1 = read_json_file(path("1.json"), "1");
  const double sum = d1["returns"][0].get<double>() + d1["returns"][1].get<double>();
  EXPECT_NEAR(d2["returns"][0].get<double>(), sum, 1e-12 * std::fabs(sum));
}

TEST_F(OptimumCliTest, QuadraturePrintsTheExpectation) {
  const auto r = run_cli("optimum --quadrature 8 --json " + path("q.json"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("8 x 8 Gauss-Legendre: -"));
  const json q = read_json_file(path("q.json"), "q");
  EXPECT_LT(q["expected_return"].get<double>(), 0);
  const auto d3 = run_cli("optimum --quadrature 8 --dim 3 --json " + path("q3.json"));
  ASSERT_EQ(d3.code, 0) << d3.output;
  EXPECT_NEAR(read_json_file(path("q3.json"), "q3")["expected_return"].get<double>(),
              3 * q["expected_return"].get<double>(), 1e-12);
}

TEST_F(OptimumCliTest, BadInputIsAOneLineErrorAndLeavesOutAlone) {
  const std::string ok = file("ok.json", R"({"states": [[0.5, 0.5]]})");
  const std::string nan = file("nan.json", R"({"states": [[NaN, 0.5]]})");
  const std::string nan_str = file("nan_str.json", R"({"states": [[0.1, "nan"]]})");
  const std::string big = file("big.json", R"({"states": [[1e999, 0.5]]})");
  struct Case {
    std::string args;
    std::vector<std::string> fragments;
  };
  const Case cases[] = {
      {"optimum", {"--init", "--quadrature"}},
      {"optimum --init " + path("missing.json"), {"--init", "missing.json"}},
      {"optimum --dim 2 --init " + ok, {"states[0] must be a list of 4 numbers", "(dim 2)"}},
      {"optimum --dim 0 --init " + ok, {"--dim", "not in range 1 to 1024"}},
      {"optimum --init " + nan, {"nan.json", "not valid JSON"}},
      {"optimum --init " + nan_str, {"states[0][1] must be a number"}},
      {"optimum --init " + big, {"big.json", "not valid JSON"}},
      {"optimum --init " + ok + " --quadrature 4", {"excludes"}},
      {"optimum --quadrature 0", {"--quadrature", "not in range 1 to 4096"}},
  };
  for (const Case& c : cases) {
    const std::string out = file("out.json", "earlier result");
    const auto r = run_cli(c.args + " --json " + out);
    EXPECT_NE(r.code, 0) << c.args;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << c.args << "\n" << r.output;
    for (const auto& f : c.fragments) EXPECT_THAT(r.output, HasSubstr(f)) << c.args;
    EXPECT_EQ(slurp(out), "earlier result") << c.args;
  }
}

}  // namespace
}  // namespace vecsac
