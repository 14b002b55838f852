// Test support: the real kubectl (Debian's kubernetes-client) against a test's API server, through a
// kubeconfig written into the test's folder. kubectl's discovery cache also lives there: it is kept per
// server, and test servers come and go.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "shell.hpp"

namespace maestro::testing {

inline constexpr const char* kKubectl = "/usr/bin/kubectl";

// Writes `folder`/kubeconfig: one cluster at `server`, no credentials, `namespace_` as the default.
inline void write_kubeconfig(const std::filesystem::path& folder, const std::string& server,
                             const std::string& namespace_) {
  std::ofstream(folder / "kubeconfig") << fmt::format(
      "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: {}\n"
      "contexts:\n- name: local\n  context: {{cluster: local, user: local, namespace: {}}}\n"
      "current-context: local\nusers:\n- name: local\n  user: {{}}\n",
      server, namespace_);
}

// `kubectl ARGUMENTS` with the kubeconfig in `folder`; output is stdout and stderr.
inline ShellResult kubectl(const std::filesystem::path& folder, const std::string& arguments) {
  return run_shell(fmt::format("KUBECONFIG={0}/kubeconfig {1} --cache-dir {0}/cache {2} 2>&1",
                               folder.string(), kKubectl, arguments));
}

}  // namespace maestro::testing
