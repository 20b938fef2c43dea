/// @brief Reading JSON input with bounds (size, nesting) and errors that name the input.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace vecsac {

/// No vecsac input nests deeper than 3 (config sections; arrays of states); 64 leaves
/// room and refuses a hostile document long before a recursive walk could exhaust the stack.
constexpr int kMaxJsonDepth = 64;

/// File size limits by kind: a config is a few hundred bytes, starts and run files hold
/// at most a few numbers per environment; --actions files a sequence for each of them.
constexpr uint64_t kMaxConfigBytes = uint64_t{1} << 20;
constexpr uint64_t kMaxDataBytes = uint64_t{256} << 20;
constexpr uint64_t kMaxActionsBytes = uint64_t{2} << 30;

/// nlohmann::json::parse with nesting bounded by kMaxJsonDepth: throws
/// nlohmann::json::exception for invalid JSON (as parse does) and std::length_error,
/// naming the limit, for a document nested deeper.
nlohmann::json parse_json_bounded(std::string_view text);

/// Parses the JSON file at `path`. `role` names the file in errors (e.g.
/// "--actions file"); throws std::runtime_error on an unreadable file, a file over
/// `max_bytes`, nesting deeper than kMaxJsonDepth or invalid JSON (with the parser's
/// position).
nlohmann::json read_json_file(const std::filesystem::path& path, const std::string& role,
                              uint64_t max_bytes = kMaxDataBytes);

}  // namespace vecsac
