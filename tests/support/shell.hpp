// Test support: runs a command through /bin/sh (popen) and returns what it wrote to stdout and how it
// exited. Redirect stderr inside the command to keep it ("... 2>&1") or drop it ("... 2>/dev/null").
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace maestro::testing {

struct ShellResult {
  int status = -1;     // the exit status; -1 if the command could not start or did not exit normally
  std::string output;  // stdout
};

inline ShellResult run_shell(const std::string& command) {
  ShellResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char chunk[4096];
  while (const std::size_t n = std::fread(chunk, 1, sizeof chunk, pipe)) result.output.append(chunk, n);
  const int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace maestro::testing
