/// @brief parse_device.
#include "vecsac/util/device.h"

#include <ATen/Context.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <regex>
#include <stdexcept>

namespace vecsac {

c10::Device parse_device(const std::string& spec) {
  const int gpus = at::hasCUDA() ? static_cast<int>(at::getNumGPUs()) : 0;
  if (spec == "auto") return gpus > 0 ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  if (spec == "cpu") return c10::Device(c10::kCPU);
  static const std::regex cuda_re("cuda(:([0-9]{1,4}))?");
  std::smatch m;
  if (!std::regex_match(spec, m, cuda_re)) {
    throw std::invalid_argument("device '" + spec + "' is not one of: auto, cpu, cuda, cuda:N");
  }
  const int index = m[2].matched ? std::stoi(m[2].str()) : 0;
  if (index >= gpus) {
    throw std::invalid_argument("device '" + spec + "' is not available: this machine has " +
                                std::to_string(gpus) + " visible CUDA GPU(s); use cpu or auto");
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

void synchronize(c10::Device device) {
  if (device.is_cpu()) return;
  c10::impl::VirtualGuardImpl(device.type())
      .synchronizeDevice(device.has_index() ? device.index() : 0);
}

}  // namespace vecsac
