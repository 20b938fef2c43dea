/// @brief Parsing a user's device string (auto | cpu | cuda | cuda:N) with a clear error.
#pragma once

#include <c10/core/Device.h>

#include <string>

namespace vecsac {

/// "auto" is the first CUDA GPU when one is visible, else the CPU. Throws
/// std::invalid_argument naming the value and what is allowed, including when a
/// CUDA device is asked for and none (or too few) is visible.
c10::Device parse_device(const std::string& spec);

}  // namespace vecsac
