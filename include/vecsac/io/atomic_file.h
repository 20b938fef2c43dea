/// @brief Whole-or-nothing file writes: a reader sees the old file or the complete new one.
#pragma once

#include <filesystem>
#include <string_view>

namespace vecsac {

/// Writes `content` to a temporary file beside `path`, fsyncs it, renames it
/// over `path` and fsyncs the directory. On any failure the temporary file is
/// removed, `path` is left as it was, and std::runtime_error names the path and
/// the system's reason.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

}  // namespace vecsac
