/// @brief One env's view into struct-of-arrays state: variable j of env i is base[j * stride].
#pragma once

#include <cstdint>

#include "vecsac/detail/hd.h"

namespace vecsac {

/// Struct-of-arrays keeps each state variable contiguous across envs, so
/// consecutive CUDA threads (envs) read consecutive addresses.
struct StateRef {
  float* base;
  int64_t stride;  ///< number of envs
  VECSAC_HD float& operator[](int j) const { return base[j * stride]; }
};

}  // namespace vecsac
