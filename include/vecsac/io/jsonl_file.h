/// @brief Reading JSON-lines logs (metrics.jsonl, evals.jsonl) with errors that name file and line.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace vecsac {

struct JsonlRecord {
  int64_t line = 0;  ///< 1-based line number in the file, for errors about this record
  nlohmann::json value;
};

struct JsonlFile {
  std::vector<JsonlRecord> records;  ///< the non-blank lines, each a JSON object
  /// The last line was cut short (no newline, not valid JSON) and was left out:
  /// the trainer writes each line whole, so this is a line still being written
  /// by a live run, or the tail of a killed one.
  bool torn_last_line = false;
};

/// Reads `path` line by line. Throws std::runtime_error naming `path` and the
/// line number when the file cannot be read or a complete line is not a JSON object.
JsonlFile read_jsonl_file(const std::filesystem::path& path);

/// The same for `text` already read; `name` stands for the file in errors.
JsonlFile parse_jsonl(std::string_view text, const std::string& name);

}  // namespace vecsac
