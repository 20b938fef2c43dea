/// @brief parse_device.
#include "vecsac/util/device.h"

#include <ATen/Context.h>
#include <c10/core/DeviceGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <regex>
#include <stdexcept>
#include <string>

#ifdef VECSAC_WITH_CUDA
#include <cuda_runtime_api.h>

#include "vecsac/detail/cuda_check.h"
#endif

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

namespace {

// The first number in `path` (a /proc or cgroup file), or -1 when it has none ("max").
double read_number(const std::string& path, const std::string& after = "") {
  std::ifstream in(path);
  std::string word;
  if (!after.empty()) {
    while (in >> word && word != after) {
    }
  }
  double v = -1;
  return (in >> v) ? v : -1;
}

}  // namespace

double available_memory(c10::Device device) {
  if (device.is_cuda()) {
#ifdef VECSAC_WITH_CUDA
    const c10::DeviceGuard guard(device);
    size_t free = 0, total = 0;
    VECSAC_CUDA_CHECK(cudaMemGetInfo(&free, &total));
    return static_cast<double>(free);
#else
    return std::numeric_limits<double>::infinity();
#endif
  }
  double available = read_number("/proc/meminfo", "MemAvailable:") * 1024;
  if (available < 0) {
    available = static_cast<double>(sysconf(_SC_AVPHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  }
  // A container's limit (cgroup v2) can be far below what the machine has.
  const double limit = read_number("/sys/fs/cgroup/memory.max");
  const double used = read_number("/sys/fs/cgroup/memory.current");
  if (limit > 0 && used >= 0) available = std::min(available, std::max(limit - used, 0.0));
  return available;
}

}  // namespace vecsac
