/// @brief env_table_markdown: read from the registry, so the table cannot drift from the code.
#include "vecsac/env/env_table.h"

#include <sstream>

#include "vecsac/env/env_registry.h"
#include "vecsac/env/vec_env_ops.h"

namespace vecsac {
namespace {

// A size at env.dim = d, written as "n" when it does not grow with d, else "n × dim" (every
// env's sizes are proportional to its axes or fixed).
std::string size_text(int at_1, int at_2) {
  if (at_1 == at_2) return std::to_string(at_1);
  return (at_1 == 1 ? std::string() : std::to_string(at_1) + " × ") + "`env.dim`";
}

std::string number_text(double x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

}  // namespace

std::string env_table_markdown() {
  std::ostringstream out;
  out << "| `env.name` | observation | action | action bounds | `env.dim` | state (`--init`) | "
         "reference time limit | exact optimum |\n"
      << "|---|---|---|---|---|---|---|---|\n";
  for_each_env([&](auto env) {
    EnvParams one, two;
    one.id = two.id = env.kId;
    one.dim = 1;
    two.dim = env.kMaxDim >= 2 ? 2 : 1;
    const std::string limit = number_text(env.kActionLimit);
    out << "| `" << env.kName << "` | " << size_text(env_obs_dim(one), env_obs_dim(two)) << " | "
        << size_text(env_act_dim(one), env_act_dim(two)) << " | [−" << limit << ", " << limit
        << "] | " << (env.kMaxDim == 1 ? std::string("1") : "1 to " + std::to_string(env.kMaxDim))
        << " | `" << env.kStateLayout << "` | " << env.kReferenceEpisodeSteps << " | "
        << (env.kExactOptimum ? "yes" : "no") << " |\n";
  });
  return out.str();
}

}  // namespace vecsac
