/// @brief `vecsac sweep`: a training run per seed, then rliable-style aggregates of their evals.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vecsac/cli/command.h"

namespace CLI {
class App;
}

namespace vecsac {

/// Parses a --seeds list: comma-separated items, each a seed `A` or an
/// inclusive range `A-B` with A <= B (e.g. "0-4", "1,3,5", "0-2,7"), in the
/// order given. Throws std::invalid_argument, naming --seeds and the allowed
/// forms, on an empty, negative, malformed, duplicated or over-long list.
std::vector<int64_t> parse_seed_list(const std::string& spec);

/// Registers `sweep` under `parent`.
Command add_sweep_command(CLI::App& parent);

}  // namespace vecsac
