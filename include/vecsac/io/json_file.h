/// @brief Reading JSON input files with errors that name the file and the problem.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace vecsac {

/// Parses the JSON file at `path`. `role` names the file in errors (e.g.
/// "--actions file"); throws std::runtime_error on an unreadable file or
/// invalid JSON, with the parser's position.
nlohmann::json read_json_file(const std::filesystem::path& path, const std::string& role);

}  // namespace vecsac
