/// @brief docs/environments.md's table of envs is `vecsac envs`'s, read from the registry.
#include "vecsac/env/env_table.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "support/run_cli.h"
#include "vecsac/env/env_registry.h"

namespace vecsac {
namespace {

std::string docs_table() {
  std::ifstream in(std::string(VECSAC_SOURCE_DIR) + "/docs/environments.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const std::string begin = "<!-- vecsac envs: begin -->\n", end = "<!-- vecsac envs: end -->";
  const size_t from = doc.find(begin), to = doc.find(end);
  if (from == std::string::npos || to == std::string::npos || to < from) return "(no table)";
  return doc.substr(from + begin.size(), to - from - begin.size());
}

TEST(EnvTable, TheDocsTableIsTheRegistrys) {
  const std::string table = env_table_markdown();
  EXPECT_EQ(docs_table(), table)
      << "docs/environments.md's table is out of date: paste `build/vecsac envs` between its "
         "markers";
  // One row per env, each naming the env and its state layout.
  for_each_env([&](auto env) {
    EXPECT_NE(table.find("| `" + std::string(env.kName) + "` |"), std::string::npos);
    EXPECT_NE(table.find(env.kStateLayout), std::string::npos) << env.kName;
  });
  EXPECT_NE(table.find("| `pointmass` | 2 × `env.dim` | `env.dim` | [−2, 2] | 1 to 1024 |"),
            std::string::npos)
      << table;
  const testing::RunResult cli = testing::run_cli("envs");
  EXPECT_EQ(cli.code, 0);
  EXPECT_EQ(cli.output, table);
}

}  // namespace
}  // namespace vecsac
