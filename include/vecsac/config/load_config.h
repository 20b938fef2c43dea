/// @brief Loading a config as every command does: file, --set overrides, validation.
#pragma once

#include <string>
#include <vector>

#include "vecsac/config/config.h"

namespace vecsac {

/// Reads `path` (or starts from the defaults when empty), applies the --set
/// assignments, parses strictly and validates, including (unless told not to)
/// that run.device exists on this machine.
Config load_config(const std::string& path, const std::vector<std::string>& overrides,
                   bool check_device = true);

}  // namespace vecsac
