// A pod's container as a process of the local cluster: started in a process group of its own, in its
// cgroups (joined before exec, so no instruction runs outside its limits), with PR_SET_PDEATHSIG so that it
// dies with the cluster even if the cluster is killed, and its output appended to a log file. Stopped as
// the kubelet stops a container: SIGTERM to the group, SIGKILL once the grace period is over.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace maestro::local {

struct PodLaunch {
  std::vector<std::string> argv;                    // argv[0]: a path, or a name looked up in PATH
  std::vector<std::filesystem::path> cgroup_procs;  // cgroup.procs files the process joins
  std::filesystem::path log;                        // stdout and stderr, appended
};

class PodProcess {
 public:
  PodProcess() = default;
  PodProcess(const PodProcess&) = delete;
  PodProcess& operator=(const PodProcess&) = delete;
  PodProcess(PodProcess&& other) noexcept;
  PodProcess& operator=(PodProcess&& other) noexcept;
  ~PodProcess();  // kills the group and reaps it if still running

  // Call from a thread that lives as long as the pods (PR_SET_PDEATHSIG fires when the forking thread ends).
  static Result<PodProcess> start(const PodLaunch& launch);

  pid_t pid() const { return pid_; }
  // True while it has not exited (reaps it once it has).
  bool running();
  // The wait status once it exited.
  std::optional<int> exit_status() const { return exit_status_; }
  void signal_group(int signo) const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

// The executable `name` resolves to: itself if it holds a '/', else the first match in PATH.
Result<std::string> resolve_executable(const std::string& name);

}  // namespace maestro::local
