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

struct TrainOptions;  // vecsac/sac/trainer.h
struct TrainResult;

/// Trains into options.out_dir and prints the one-line summary `vecsac train`
/// ends with; `vecsac sweep` calls it per seed, so both report a run alike.
TrainResult train_and_report(const Config& config, const TrainOptions& options);

Command add_train_command(CLI::App& parent);

}  // namespace vecsac
