/// @brief `vecsac report`: parses the flags here (so --help shows them), then runs tools/report.py.
#include "vecsac/cli/report.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace vecsac {
namespace {

// Both set by CMake for this file only (absolute paths elsewhere would defeat
// ccache across clones): the interpreter scripts/setup.sh configured, which
// has plotly, and the drawing script in the source tree.
#ifndef VECSAC_DEFAULT_PYTHON
#define VECSAC_DEFAULT_PYTHON ""
#endif
#ifndef VECSAC_REPORT_SCRIPT
#define VECSAC_REPORT_SCRIPT "tools/report.py"
#endif

std::string python_interpreter() {
  const char* env = std::getenv("VECSAC_PYTHON");
  const std::string python = env != nullptr && *env != '\0' ? env : VECSAC_DEFAULT_PYTHON;
  const std::string source = env != nullptr && *env != '\0' ? "VECSAC_PYTHON" : "the build";
  if (python.empty()) {
    throw std::runtime_error(
        "no Python configured for the report: run scripts/setup.sh (it builds with the venv's "
        "Python, which has plotly) or set VECSAC_PYTHON to a Python with plotly");
  }
  if (::access(python.c_str(), X_OK) != 0) {
    throw std::runtime_error("Python '" + python + "' (from " + source +
                             ") is not executable: run scripts/setup.sh to create the venv with "
                             "plotly, or set VECSAC_PYTHON to a Python with plotly");
  }
  return python;
}

}  // namespace

Command add_report_command(CLI::App& parent) {
  struct Options {
    std::vector<std::string> runs;
    std::string out = "report.html";
    std::string title;
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = parent.add_subcommand(
      "report",
      "Write one self-contained HTML file (opens offline) charting runs: episodic return, "
      "entropy, Q-values, alpha, optimality gap, steps/s; runs whose configs differ only in "
      "run.seed form a group drawn as mean and band");
  app->add_option("RUN_DIR", o->runs, "Run directories written by 'vecsac train'")->required();
  app->add_option("--out", o->out, "HTML file to write (atomically)")->capture_default_str();
  app->add_option("--title", o->title, "Report title (default: the run directories)");
  return Command{app, [o] {
                   const std::string python = python_interpreter();
                   std::vector<std::string> args{python, VECSAC_REPORT_SCRIPT};
                   args.insert(args.end(), o->runs.begin(), o->runs.end());
                   args.insert(args.end(), {"--out", o->out});
                   if (!o->title.empty()) args.insert(args.end(), {"--title", o->title});
                   std::vector<char*> argv;
                   for (auto& a : args) argv.push_back(a.data());
                   argv.push_back(nullptr);
                   // The script's exit status and one-line errors become this command's.
                   std::cout.flush();
                   std::fflush(nullptr);
                   ::execv(python.c_str(), argv.data());
                   throw std::runtime_error("cannot run '" + python + "': " + std::strerror(errno));
                 }};
}

}  // namespace vecsac
