// `maestro local`: the group the local runtime's subcommands (kube-api, up, down) join, created by whichever
// registers first.
#pragma once

#include <CLI/CLI.hpp>

namespace maestro::cli {

inline CLI::App& local_command(CLI::App& maestro) {
  for (CLI::App* existing : maestro.get_subcommands({}))
    if (existing->get_name() == "local") return *existing;
  CLI::App* local =
      maestro.add_subcommand("local", "The local runtime: run MAESTRO's surroundings on one machine");
  local->require_subcommand(1);
  return *local;
}

}  // namespace maestro::cli
