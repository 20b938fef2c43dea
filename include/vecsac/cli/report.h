/// @brief `vecsac report`: a self-contained HTML report of runs, drawn by tools/report.py (plotly).
#pragma once

#include "vecsac/cli/command.h"

namespace CLI {
class App;
}

namespace vecsac {

Command add_report_command(CLI::App& parent);

}  // namespace vecsac
