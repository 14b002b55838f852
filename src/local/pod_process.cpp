#include "local/pod_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <utility>

extern char** environ;

namespace maestro::local {

Result<std::string> resolve_executable(const std::string& name) {
  if (name.empty()) return fail("empty command");
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) != 0) return fail("{} is not executable", name);
    return name;
  }
  const char* path = std::getenv("PATH");
  std::stringstream folders(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string folder;
  while (std::getline(folders, folder, ':')) {
    const auto candidate = std::filesystem::path(folder.empty() ? "." : folder) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return fail("{} not found in PATH", name);
}

PodProcess::PodProcess(PodProcess&& other) noexcept {
  *this = std::move(other);
}

PodProcess& PodProcess::operator=(PodProcess&& other) noexcept {
  std::swap(pid_, other.pid_);
  std::swap(exit_status_, other.exit_status_);
  return *this;
}

PodProcess::~PodProcess() {
  if (running()) {
    signal_group(SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

Result<PodProcess> PodProcess::start(const PodLaunch& launch) {
  if (launch.argv.empty()) return fail("a pod needs a command");
  auto executable = resolve_executable(launch.argv[0]);
  if (!executable) return std::unexpected(executable.error());
  // Everything the child needs is prepared here: between fork and exec only async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& arg : launch.argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<int> cgroup_fds;
  for (const auto& procs : launch.cgroup_procs) {
    const int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      for (int open_fd : cgroup_fds) ::close(open_fd);
      return fail("cannot open {}: {}", procs.string(), std::strerror(errno));
    }
    cgroup_fds.push_back(fd);
  }
  const int log_fd = ::open(launch.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the cluster died before prctl took effect
    ::setpgid(0, 0);
    // "0" moves the writing process itself (cgroup v1).
    for (int fd : cgroup_fds)
      if (::write(fd, "0", 1) != 1) ::_exit(126);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    if (log_fd >= 0) {
      ::dup2(log_fd, STDOUT_FILENO);
      ::dup2(log_fd, STDERR_FILENO);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the cluster blocks SIGTERM/SIGINT; the pod must not
    ::execve(executable->c_str(), args.data(), environ);
    ::_exit(127);
  }
  const int fork_errno = errno;
  for (int fd : cgroup_fds) ::close(fd);
  if (log_fd >= 0) ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  if (pid < 0) return fail("fork failed: {}", std::strerror(fork_errno));
  ::setpgid(pid, pid);  // also here, so that signal_group works before the child has run
  PodProcess process;
  process.pid_ = pid;
  return process;
}

bool PodProcess::running() {
  if (pid_ <= 0 || exit_status_) return false;
  int status = 0;
  const pid_t reaped = ::waitpid(pid_, &status, WNOHANG);
  if (reaped == pid_ || (reaped < 0 && errno == ECHILD)) {
    exit_status_ = status;
    // Whatever the container left behind in its group goes with it, as with a container's cgroup.
    ::kill(-pid_, SIGKILL);
    return false;
  }
  return true;
}

void PodProcess::signal_group(int signo) const {
  if (pid_ > 0 && !exit_status_) ::kill(-pid_, signo);
}

}  // namespace maestro::local
