/// @brief The independent random streams of one run, each seeded by derive_seed(run.seed, purpose).
#pragma once

#include <cstdint>

namespace vecsac {

/// One registry, so no two users pick the same purpose, and changing how one
/// stream is used never shifts the others (a checkpointed run stays exact).
enum SeedPurpose : uint64_t {
  kInitSeed = 1,       ///< network initialisation
  kUpdateSeed = 2,     ///< policy samples inside gradient steps
  kActSeed = 3,        ///< policy samples when acting
  kEnvSeed = 10,       ///< training envs' resets
  kEvalEnvSeed = 11,   ///< evaluation envs' resets
  kReplaySeed = 12,    ///< replay sampling
  kExploreSeed = 13,   ///< uniform actions before learning_starts
  kSelectEnvSeed = 14  ///< validation starts of policy selection (run.select_episodes)
};

}  // namespace vecsac
