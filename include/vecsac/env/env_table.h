/// @brief The envs of the registry as a Markdown table: `vecsac envs` prints it, and
/// docs/environments.md holds a copy that a test keeps equal to it.
#pragma once

#include <string>

namespace vecsac {

/// One row per env of env/env_registry.h, in EnvId order: config name, observation and
/// action sizes (in terms of env.dim where they grow with it), action bounds, the env.dim it
/// takes, its state layout (--init and run.eval_init files), its reference's time limit and
/// whether evaluations report the gap to the exact optimum.
std::string env_table_markdown();

}  // namespace vecsac
