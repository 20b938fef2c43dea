/// @brief `vecsac export-tb`.
#include "vecsac/cli/export_tb.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

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
                     const TensorBoardExport e = export_run_tensorboard(run);
                     std::cout << "wrote " << e.file.string() << ": " << e.events << " events, "
                               << e.tags << " scalar tags" << std::endl;
                   }
                 }};
}

}  // namespace vecsac
