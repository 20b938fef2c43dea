/// @brief `vecsac export-tb`: a run's metrics.jsonl and evals.jsonl as a TensorBoard event file.
#pragma once

#include "vecsac/cli/command.h"

namespace CLI {
class App;
}

namespace vecsac {

Command add_export_tb_command(CLI::App& parent);

}  // namespace vecsac
