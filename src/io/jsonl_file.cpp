/// @brief read_jsonl_file.
#include "vecsac/io/jsonl_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "vecsac/io/json_file.h"

namespace vecsac {

JsonlFile read_jsonl_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw std::runtime_error("'" + path.string() + "' is a directory, not a JSON-lines file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read '" + path.string() + "': " + std::strerror(errno));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_jsonl(buffer.str(), path.string());
}

JsonlFile parse_jsonl(std::string_view text, const std::string& name) {
  JsonlFile file;
  int64_t line_no = 0;
  for (size_t begin = 0; begin < text.size();) {
    const size_t end = text.find('\n', begin);
    const bool complete = end != std::string::npos;
    const std::string line(text.substr(begin, complete ? end - begin : std::string::npos));
    begin = complete ? end + 1 : text.size();
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = name + ":" + std::to_string(line_no) + ": ";
    nlohmann::json value;
    try {
      value = parse_json_bounded(line);
    } catch (const std::length_error& e) {
      throw std::runtime_error(where + "refused: " + e.what());
    } catch (const nlohmann::json::exception& e) {
      if (!complete) {
        file.torn_last_line = true;
        break;
      }
      throw std::runtime_error(where + "not valid JSON: " + e.what());
    }
    if (!value.is_object()) {
      throw std::runtime_error(where + "expected a JSON object, got " + value.type_name());
    }
    file.records.push_back({line_no, std::move(value)});
  }
  return file;
}

}  // namespace vecsac
