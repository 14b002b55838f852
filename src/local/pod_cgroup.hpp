// A pod's cgroups (v1), set up as the kubelet sets a container's limits and read as cAdvisor reads them:
// CPU limit as cpu.cfs_quota_us over cpu.cfs_period_us = 100000, memory limit as memory.limit_in_bytes;
// CPU seconds from cpuacct.usage, throttling from cpu.stat, working set as memory usage minus
// inactive_file. Each controller's folder is <this process's own cgroup>/maestro-local/<pod>, so the pods
// stay inside whatever limits the cluster itself runs under. Where cgroups cannot be written, a pod runs
// without limits and is measured from /proc (process_usage).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace maestro::local {

struct PodLimits {
  double cpu_cores = 0.5;                     // 0: no CPU limit
  std::uint64_t memory_bytes = 256ull << 20;  // 0: no memory limit
};

// What cAdvisor exports for a container.
struct ContainerUsage {
  double cpu_seconds = 0;
  std::uint64_t throttled_periods = 0;
  std::uint64_t periods = 0;
  std::uint64_t working_set_bytes = 0;
};

inline constexpr std::uint64_t kCfsPeriodMicros = 100'000;

class PodCgroup {
 public:
  // The root folder (`<mount>/<own cgroup>/maestro-local`) of each controller, or an error saying why
  // cgroups cannot be used here.
  static Result<void> check_writable();
  // Removes the pod cgroups a cluster that was killed left behind: empty ones, untouched for a minute (so
  // that another cluster's pod, created but not joined yet, is never one). Returns how many.
  static int remove_orphans();
  // Creates the pod's cgroups with `limits`.
  static Result<PodCgroup> create(const std::string& pod, const PodLimits& limits);
  PodCgroup() = default;
  PodCgroup(PodCgroup&&) noexcept = default;
  PodCgroup& operator=(PodCgroup&&) noexcept = default;
  ~PodCgroup();  // removes the folders (once the pod's processes are gone)

  // The cgroup.procs files a process writes itself into to join.
  std::vector<std::filesystem::path> procs_files() const;
  ContainerUsage usage() const;

 private:
  std::filesystem::path cpu_, cpuacct_, memory_;
};

// Usage measured from /proc for a process without cgroups: its CPU seconds and resident memory; never
// throttled.
ContainerUsage process_usage(pid_t pid);

}  // namespace maestro::local
