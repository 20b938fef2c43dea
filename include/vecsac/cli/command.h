/// @brief A CLI subcommand: its CLI11 parser plus the action to run once parsed.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace vecsac {

struct Command {
  CLI::App* app;              ///< owned by the parent CLI::App
  std::function<void()> run;  ///< throws std::exception with a one-line message on bad input
};

}  // namespace vecsac
