/// @brief Our std::filesystem calls bind to the system libstdc++, not to the copy
/// that the torch wheels export (see the link options in CMakeLists.txt).
#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace vecsac {
namespace {

namespace fs = std::filesystem;

std::string object_defining(const void* address) {
  Dl_info info{};
  if (dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "(dladdr found nothing)";
  return info.dli_fname;
}

// The address seen from this binary is the one its calls go through (the GOT
// entry that the dynamic linker filled in).
TEST(StdBindingTest, FilesystemCallsBindToLibstdcxx) {
  using RemoveAll = std::uintmax_t (*)(const fs::path&);
  using Remove = bool (*)(const fs::path&);
  EXPECT_THAT(
      object_defining(reinterpret_cast<const void*>(static_cast<RemoveAll>(&fs::remove_all))),
      ::testing::HasSubstr("libstdc++"));
  EXPECT_THAT(object_defining(reinterpret_cast<const void*>(static_cast<Remove>(&fs::remove))),
              ::testing::HasSubstr("libstdc++"));
  EXPECT_THAT(object_defining(reinterpret_cast<const void*>(
                  static_cast<fs::path (*)()>(&fs::temp_directory_path))),
              ::testing::HasSubstr("libstdc++"));
}

}  // namespace
}  // namespace vecsac
