/// @brief `vecsac optimum`: the exact best return of the point mass from given starts.
#pragma once

#include "vecsac/cli/command.h"

namespace CLI {
class App;
}

namespace vecsac {

/// Registers `optimum` under `parent`.
Command add_optimum_command(CLI::App& parent);

}  // namespace vecsac
