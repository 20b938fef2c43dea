/// @brief How many CPU threads this process may use: its affinity mask and its cgroup's CPU
/// quota, not the machine's core count (a container limited to 2 CPUs of 64 that ran 64
/// threads would spend its quota spinning).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vecsac {

struct CpuBudget {
  int threads = 1;  ///< min(CPUs in the affinity mask, the cgroup quota rounded up), at least 1
  std::string why;  ///< e.g. "2 CPUs in the affinity mask, no cgroup CPU quota"
};

/// Read once per call from sched_getaffinity and /proc/self/cgroup (cgroup v2's cpu.max, or
/// v1's cpu.cfs_quota_us and cpu.cfs_period_us).
CpuBudget cpu_budget();

/// The CPUs a quota allows, rounded up (1.5 CPUs: 2 threads, each busy part of the time), from
/// cgroup v2's cpu.max text ("max 100000" or "150000 100000"); nullopt for no quota or text
/// it cannot read.
std::optional<int> cpus_of_cgroup_quota(std::string_view cpu_max);

}  // namespace vecsac
