/// @brief A whole file as bytes, for tests that compare files.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace vecsac::testing {

inline std::string read_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace vecsac::testing
