/// @brief `vecsac train`: train SAC from a JSON config with --set overrides.
#pragma once

#include <string>
#include <vector>

#include "vecsac/cli/command.h"
#include "vecsac/config/config.h"

namespace CLI {
class App;
}

namespace vecsac {

/// Reads `path` (or starts from the defaults when empty), applies the --set
/// assignments, parses strictly and validates, including (unless told not to)
/// that run.device exists on this machine.
Config load_config(const std::string& path, const std::vector<std::string>& overrides,
                   bool check_device = true);

Command add_train_command(CLI::App& parent);

}  // namespace vecsac
