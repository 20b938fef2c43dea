/// @brief `vecsac export-tb`.
#include "vecsac/cli/export_tb.h"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "vecsac/io/dir_lock.h"
#include "vecsac/io/run_tensorboard.h"

namespace vecsac {

Command add_export_tb_command(CLI::App& parent) {
  auto runs = std::make_shared<std::vector<std::string>>();
  CLI::App* app = parent.add_subcommand(
      "export-tb",
      "Write each run's metrics.jsonl and evals.jsonl as a TensorBoard event file in RUN_DIR/tb/ "
      "(replacing an earlier export); view with: tensorboard --logdir RUN_DIR");
  app->add_option("RUN_DIR", *runs, "Run directories written by 'vecsac train'")->required();
  return Command{app, [runs] {
                   for (const auto& run : *runs) {
                     // A run in training writes tb/ live; an export would replace the
                     // trainer's open event file (DirLock names the holder).
                     std::optional<DirLock> lock;
                     if (std::filesystem::is_directory(run)) {
                       try {
                         lock.emplace(run, "vecsac export-tb");
                       } catch (const std::runtime_error& e) {
                         throw std::runtime_error(
                             std::string(e.what()) +
                             "; a run in training writes its TensorBoard events live to "
                             "RUN_DIR/tb/, so export-tb is for runs that are not training");
                       }
                     }
                     const TensorBoardExport e = export_run_tensorboard(run);
                     std::cout << "wrote " << e.file.string() << ": " << e.events << " events, "
                               << e.tags << " scalar tags" << std::endl;
                   }
                 }};
}

}  // namespace vecsac
