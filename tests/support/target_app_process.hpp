// Test support: child processes (spawned, their stdout read, stopped with SIGTERM and reaped) and the sample
// target app run as one, with its port read back from its "listening on PORT" line. Header-only, for the
// integration tests in tests/ (the whole-loop test reuses it).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/error.hpp"

extern char** environ;

namespace maestro::testing {

class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&& other) noexcept { *this = std::move(other); }
  ChildProcess& operator=(ChildProcess&& other) noexcept {
    std::swap(pid_, other.pid_);
    std::swap(stdout_fd_, other.stdout_fd_);
    std::swap(buffered_, other.buffered_);
    return *this;
  }
  ~ChildProcess() { stop(); }

  // Runs `argv` with stdout to a pipe this object reads, and stderr to `stderr_path` (or inherited).
  static Result<ChildProcess> spawn(const std::vector<std::string>& argv,
                                    const std::string& stderr_path = "") {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return fail("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    if (!stderr_path.empty())
      posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ChildProcess child;
    const int error = ::posix_spawn(&child.pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    if (error != 0) {
      ::close(pipe_fds[0]);
      child.pid_ = -1;
      return fail("cannot start {}: {}", argv[0], std::strerror(error));
    }
    child.stdout_fd_ = pipe_fds[0];
    return child;
  }

  pid_t pid() const { return pid_; }

  // The next line of stdout, waiting at most `deadline`.
  std::optional<std::string> read_line(std::chrono::milliseconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (true) {
      if (const auto newline = buffered_.find('\n'); newline != std::string::npos) {
        std::string line = buffered_.substr(0, newline);
        buffered_.erase(0, newline + 1);
        return line;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd readable{stdout_fd_, POLLIN, 0};
      if (::poll(&readable, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[1024];
      const ssize_t n = ::read(stdout_fd_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffered_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  // True while the process has not exited.
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      exit_status_ = status;
      return false;
    }
    return true;
  }

  void signal(int signo) {
    if (pid_ > 0) ::kill(pid_, signo);
  }

  // Waits for the exit (at most `deadline`); the raw wait status, or nothing if still running.
  std::optional<int> wait(std::chrono::milliseconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (running()) {
      if (std::chrono::steady_clock::now() >= until) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling the exit, with a deadline
    }
    return exit_status_;
  }

  // SIGTERM, then SIGKILL if it has not exited within five seconds.
  void stop() {
    if (pid_ > 0) {
      signal(SIGTERM);
      if (!wait(std::chrono::seconds(5))) {
        signal(SIGKILL);
        wait(std::chrono::seconds(5));
      }
    }
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    stdout_fd_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int exit_status_ = 0;
  std::string buffered_;
};

// Reads stdout lines (log lines may come first) until "listening on PORT"; the port, or nothing by the
// deadline.
inline std::optional<std::uint16_t> read_listening_port(
    ChildProcess& process, std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    const auto line = process.read_line(left);
    if (!line) return std::nullopt;
    unsigned port = 0;
    if (std::sscanf(line->c_str(), "listening on %u", &port) == 1) return static_cast<std::uint16_t>(port);
  }
}

// The built maestro-target-app, started on a free loopback port.
struct TargetApp {
  ChildProcess process;
  std::uint16_t port = 0;

  static std::string binary() { return std::string(MAESTRO_BINARY_DIR) + "/maestro-target-app"; }

  // `flags` are passed through (e.g. {"--cpu-ms", "2"}).
  static Result<TargetApp> start(std::vector<std::string> flags = {}) {
    std::vector<std::string> argv = {binary(), "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto child = ChildProcess::spawn(argv);
    if (!child) return std::unexpected(child.error());
    const auto port = read_listening_port(*child);
    if (!port) return fail("{} did not say which port it listens on", argv[0]);
    TargetApp app;
    app.process = std::move(*child);
    app.port = *port;
    return app;
  }
};

}  // namespace maestro::testing
