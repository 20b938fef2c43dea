/// @brief Bounded JSON reading: nesting and size limits with one-line errors, no crash.
#include "vecsac/io/json_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/temp_dir_test.h"
#include "vecsac/config/config.h"
#include "vecsac/io/atomic_file.h"

namespace vecsac {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;
using JsonFileTest = testing::TempDirTest;

std::string nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(ParseJsonBoundedTest, AcceptsTheLimitAndRefusesOneLevelMore) {
  EXPECT_NO_THROW(parse_json_bounded(nested(kMaxJsonDepth)));
  EXPECT_THROW(parse_json_bounded(nested(kMaxJsonDepth + 1)), std::length_error);
  EXPECT_THROW(parse_json_bounded(R"({"a": )" + nested(kMaxJsonDepth) + "}"), std::length_error);
  EXPECT_THROW(parse_json_bounded("[1, 2"), nlohmann::json::exception);
  EXPECT_EQ(parse_json_bounded(R"({"a": [1, {"b": 2}]})")["a"][1]["b"], 2);
}

// The crash this guards against: a stack overflow at about 100,000 levels.
TEST_F(JsonFileTest, AMillionLevelsDeepIsRefusedWithoutCrashing) {
  write_file_atomic(dir_ / "deep.json", std::string(1000000, '[') + std::string(1000000, ']'));
  EXPECT_THAT(
      [&] { read_json_file(dir_ / "deep.json", "--init file"); },
      ThrowsMessage<std::runtime_error>(HasSubstr("--init file '" + (dir_ / "deep.json").string() +
                                                  "' is refused: nested deeper than 64 levels")));
  write_file_atomic(dir_ / "deep_object.json", std::string(200000, '{') + std::string(200000, '}'));
  EXPECT_THROW(read_json_file(dir_ / "deep_object.json", "x"), std::runtime_error);
}

TEST_F(JsonFileTest, AFileOverItsKindsLimitIsRefusedBeforeItIsRead) {
  write_file_atomic(dir_ / "big.json", "[" + std::string(2000, ' ') + "1]");
  EXPECT_THAT([&] { read_json_file(dir_ / "big.json", "--config file", 1000); },
              ThrowsMessage<std::runtime_error>(
                  HasSubstr("is 2003 bytes; at most 1000 are accepted for it")));
  EXPECT_EQ(read_json_file(dir_ / "big.json", "--config file", 2003)[0], 1);
}

TEST(ApplyOverrideTest, ADeeplyNestedValueIsRefusedNotTakenAsAString) {
  nlohmann::json doc = nlohmann::json::object();
  EXPECT_THAT([&] { apply_override(doc, "sac.tau=" + nested(100000)); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("nested deeper than 64 levels")));
}

}  // namespace
}  // namespace vecsac
