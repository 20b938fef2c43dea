/// @brief make_generator, derive_seed.
#include "vecsac/util/generator.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>

#ifdef VECSAC_WITH_CUDA
#include <ATen/cuda/CUDAGeneratorImpl.h>
#endif

namespace vecsac {

at::Generator make_generator(c10::Device device, uint64_t seed) {
  if (device.is_cpu()) return at::detail::createCPUGenerator(seed);
#ifdef VECSAC_WITH_CUDA
  at::Generator g = at::cuda::detail::createCUDAGenerator(device.index() < 0 ? 0 : device.index());
  g.set_current_seed(seed);
  return g;
#else
  TORCH_CHECK(false, "make_generator: ", device, " needs CUDA; this vecsac was built without it");
#endif
}

uint64_t derive_seed(uint64_t run_seed, uint64_t purpose) {
  uint64_t z = run_seed + 0x9E3779B97F4A7C15ull * (purpose + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace vecsac
