/// @brief `vecsac envs`.
#include "vecsac/cli/envs.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "vecsac/env/env_table.h"

namespace vecsac {

Command add_envs_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand(
      "envs",
      "List the environments (env.name in a config): sizes, action bounds, env.dim, the state "
      "layout of --init files, and whether evaluations report the gap to the exact optimum");
  return Command{app, [] { std::cout << env_table_markdown(); }};
}

}  // namespace vecsac
