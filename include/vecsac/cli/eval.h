/// @brief `vecsac eval`: the deterministic policy of a run, on seeded or given starts.
#pragma once

#include "vecsac/cli/command.h"

namespace CLI {
class App;
}

namespace vecsac {

Command add_eval_command(CLI::App& parent);

}  // namespace vecsac
