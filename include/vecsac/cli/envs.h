/// @brief `vecsac envs`: the environments vecsac runs, as a Markdown table.
#pragma once

#include "vecsac/cli/command.h"

namespace CLI {
class App;
}

namespace vecsac {

Command add_envs_command(CLI::App& parent);

}  // namespace vecsac
