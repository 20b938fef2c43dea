/// @brief write_file_atomic: complete new content, or the old file untouched.
#include "vecsac/io/atomic_file.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/temp_dir_test.h"

namespace vecsac {
namespace {

namespace fs = std::filesystem;

using AtomicFileTest = testing::TempDirTest;

TEST_F(AtomicFileTest, WritesAndReplacesWholeContentLeavingNoTempFile) {
  const fs::path p = dir_ / "out.json";
  write_file_atomic(p, "first");
  EXPECT_EQ(slurp(p), "first");
  write_file_atomic(p, std::string(1 << 20, 'x'));
  EXPECT_EQ(slurp(p).size(), size_t{1} << 20);
  EXPECT_EQ(entries(), 1);
}

TEST_F(AtomicFileTest, FailureNamesThePathAndKeepsTheOldFile) {
  const fs::path target = dir_ / "taken";
  fs::create_directories(target / "child");  // rename over a non-empty directory fails
  try {
    write_file_atomic(target, "new");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(target.string()), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_directory(target / "child"));
  EXPECT_EQ(entries(), 1) << "the temporary file must be removed";
}

TEST_F(AtomicFileTest, MissingDirectoryIsAClearError) {
  EXPECT_THROW(write_file_atomic(dir_ / "no" / "such" / "file", "x"), std::runtime_error);
  EXPECT_EQ(entries(), 0);
}

}  // namespace
}  // namespace vecsac
