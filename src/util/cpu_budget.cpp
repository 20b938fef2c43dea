/// @brief cpu_budget: the affinity mask and the cgroup CPU quota.
#include "vecsac/util/cpu_budget.h"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace vecsac {
namespace {

// The first `limit` bytes of a small kernel file (never blocks: procfs and cgroupfs answer at
// once), or "" when it cannot be read.
std::string read_small(const std::string& path, size_t limit = 4096) {
  std::ifstream in(path);
  if (!in) return "";
  std::string text(limit, '\0');
  in.read(text.data(), static_cast<std::streamsize>(limit));
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

int affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  return CPU_COUNT(&set);
}

// The quota of this process's cgroup, cgroup v2 or v1; the path where it was found.
std::optional<int> quota_cpus(std::string& where) {
  std::istringstream cgroups(read_small("/proc/self/cgroup"));
  for (std::string line; std::getline(cgroups, line);) {
    // "hierarchy-ID:controller-list:path"
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (controllers.empty()) {  // v2's unified hierarchy
      const std::string file = "/sys/fs/cgroup" + path + "/cpu.max";
      if (auto cpus = cpus_of_cgroup_quota(read_small(file))) {
        where = file;
        return cpus;
      }
      continue;
    }
    std::istringstream list(controllers);
    for (std::string c; std::getline(list, c, ',');) {
      if (c != "cpu") continue;
      for (const std::string& mount :
           {"/sys/fs/cgroup/" + controllers, std::string("/sys/fs/cgroup/cpu")}) {
        const std::string quota = read_small(mount + path + "/cpu.cfs_quota_us");
        const std::string period = read_small(mount + path + "/cpu.cfs_period_us");
        if (quota.empty() || period.empty()) continue;
        // v1's "no quota" is a quota of -1, which the parser refuses as v2's "max".
        if (auto cpus = cpus_of_cgroup_quota(quota.substr(0, quota.find('\n')) + " " + period)) {
          where = mount + path + "/cpu.cfs_quota_us";
          return cpus;
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<int> cpus_of_cgroup_quota(std::string_view cpu_max) {
  std::istringstream in{std::string(cpu_max)};
  std::string quota;
  double period = 0;
  if (!(in >> quota >> period) || period <= 0 || quota == "max") return std::nullopt;
  char* end = nullptr;
  const double q = std::strtod(quota.c_str(), &end);
  if (*end != '\0' || !(q > 0)) return std::nullopt;
  return static_cast<int>(std::min(1024.0, std::ceil(q / period - 1e-9)));
}

CpuBudget cpu_budget() {
  CpuBudget b;
  const int mask = affinity_cpus();
  std::string where;
  const std::optional<int> quota = quota_cpus(where);
  b.threads = std::max(1, mask);
  b.why = mask > 0
              ? std::to_string(mask) + " CPU" + (mask == 1 ? "" : "s") + " in the affinity mask"
              : std::string("affinity mask unreadable");
  if (quota) {
    b.threads = std::min(b.threads, std::max(1, *quota));
    b.why += ", a cgroup quota of " + std::to_string(*quota) + " (" + where + ")";
  } else {
    b.why += ", no cgroup CPU quota";
  }
  return b;
}

}  // namespace vecsac
