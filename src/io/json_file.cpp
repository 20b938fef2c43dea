/// @brief read_json_file and the depth-bounded parse under it.
#include "vecsac/io/json_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace vecsac {

nlohmann::json parse_json_bounded(std::string_view text) {
  // The callback sees each container as it opens, before any of its contents.
  const nlohmann::json::parser_callback_t limit = [](int depth, nlohmann::json::parse_event_t event,
                                                     nlohmann::json&) {
    if ((event == nlohmann::json::parse_event_t::object_start ||
         event == nlohmann::json::parse_event_t::array_start) &&
        depth >= kMaxJsonDepth) {
      throw std::length_error("nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
    return true;
  };
  return nlohmann::json::parse(text, limit);
}

nlohmann::json read_json_file(const std::filesystem::path& path, const std::string& role,
                              uint64_t max_bytes) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw std::runtime_error(role + " '" + path.string() + "' is a directory, not a JSON file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + role + " '" + path.string() +
                             "': " + std::strerror(errno));
  }
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > max_bytes) {
    throw std::runtime_error(role + " '" + path.string() + "' is " + std::to_string(size) +
                             " bytes; at most " + std::to_string(max_bytes) +
                             " are accepted for it");
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    return parse_json_bounded(text.str());
  } catch (const nlohmann::json::exception& e) {  // syntax errors and number overflow
    throw std::runtime_error(role + " '" + path.string() + "' is not valid JSON: " + e.what());
  } catch (const std::length_error& e) {
    throw std::runtime_error(role + " '" + path.string() + "' is refused: " + e.what());
  }
}

}  // namespace vecsac
