/// @brief Named random generators on a given device, seeded per purpose.
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <string>

namespace vecsac {

/// A fresh generator for `device` (CPU or CUDA) seeded with `seed`. Each
/// purpose (network init, acting, updates, replay sampling) gets its own, so
/// adding draws in one place does not shift the others.
at::Generator make_generator(c10::Device device, uint64_t seed);

/// A seed for `purpose` derived from the run seed (SplitMix64 of both), so the
/// purposes' streams are unrelated even for neighbouring run seeds.
uint64_t derive_seed(uint64_t run_seed, uint64_t purpose);

}  // namespace vecsac
