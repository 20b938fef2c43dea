/// @brief read_json_file.
#include "vecsac/io/json_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace vecsac {

nlohmann::json read_json_file(const std::filesystem::path& path, const std::string& role) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw std::runtime_error(role + " '" + path.string() + "' is a directory, not a JSON file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + role + " '" + path.string() +
                             "': " + std::strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {  // syntax errors and number overflow
    throw std::runtime_error(role + " '" + path.string() + "' is not valid JSON: " + e.what());
  }
}

}  // namespace vecsac
