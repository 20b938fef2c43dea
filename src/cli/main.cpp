/// @brief The `vecsac` command line: subcommands, one-line errors, exit codes.
#include <c10/util/Exception.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "vecsac/cli/envs.h"
#include "vecsac/cli/eval.h"
#include "vecsac/cli/export_tb.h"
#include "vecsac/cli/optimum.h"
#include "vecsac/cli/report.h"
#include "vecsac/cli/rollout.h"
#include "vecsac/cli/sweep.h"
#include "vecsac/cli/train.h"
#include "vecsac/util/cpu_pool.h"
#include "vecsac/util/cpu_runtime.h"
#include "vecsac/util/stop_signal.h"

namespace {

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  vecsac::tune_cpu_runtime();
  // Torch's own count (MKL's threads, ATen ops) defaults to the machine's cores; the pool's
  // to the CPUs this process may use. One count for both.
  vecsac::set_cpu_threads(vecsac::cpu_threads(), vecsac::cpu_threads_origin());
  CLI::App app{"vecsac: Soft Actor-Critic over thousands of vectorized environments"};
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default();
  std::vector<vecsac::Command> commands{
      vecsac::add_rollout_command(app),   vecsac::add_train_command(app),
      vecsac::add_eval_command(app),      vecsac::add_optimum_command(app),
      vecsac::add_sweep_command(app),     vecsac::add_report_command(app),
      vecsac::add_export_tb_command(app), vecsac::add_envs_command(app)};

  // Errors name the subcommand the user typed, so "--help" advice points at the right flags.
  std::string where = "vecsac";
  if (argc > 1) {
    for (const auto& c : commands) {
      if (c.app->get_name() == argv[1]) where += " " + c.app->get_name();
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << where << ": error: " << one_line(e.what()) << " (see '" << where << " --help')"
              << std::endl;
    return 2;
  }
  for (const auto& c : commands) {
    if (!c.app->parsed()) continue;
    try {
      c.run();
      return 0;
    } catch (const vecsac::StopRequested& e) {
      // Not an error: the state is saved, and the exit status says which signal asked.
      std::cerr << where << ": " << e.what() << "; continue with: "
                << (e.resume.empty() ? "the same command and --resume" : e.resume) << std::endl;
      return 128 + e.signal;
    } catch (const c10::Error& e) {
      std::cerr << where << ": error: " << one_line(e.what_without_backtrace()) << std::endl;
    } catch (const std::exception& e) {
      std::cerr << where << ": error: " << one_line(e.what()) << std::endl;
    }
    return 1;
  }
  return 2;
}
