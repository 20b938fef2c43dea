/// @brief What the `vecsac` command-line tests share: a fixture that writes input files into
/// its temporary directory, the tiny CPU training runs' flags, and the fixture runs.
#pragma once

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

#include "support/temp_dir_test.h"

namespace vecsac::testing {

/// The fixture run directories (a group of three seeds, one of two) for `report` and `export-tb`.
inline const std::filesystem::path kReportRuns =
    std::filesystem::path(VECSAC_SOURCE_DIR) / "tests/data/report_runs";

/// ` --set KEY=VALUE` for each override, after the two every tiny CLI training run has: the CPU
/// and a [16,16] network.
inline std::string tiny_cpu_run(std::initializer_list<const char*> overrides) {
  std::string flags = " --set run.device=cpu --set sac.policy_kwargs.net_arch=[16,16]";
  for (const char* o : overrides) flags += std::string(" --set ") + o;
  return flags;
}

class CliTest : public TempDirTest {
 protected:
  /// Writes `content` to `name` in the test's directory and returns its path.
  std::string file(const std::string& name, const std::string& content) {
    const std::filesystem::path p = dir_ / name;
    std::ofstream(p) << content;
    return p.string();
  }
  /// The path of `name` in the test's directory.
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
};

}  // namespace vecsac::testing
