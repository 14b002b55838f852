#include "cli/command.hpp"

#include <algorithm>

namespace maestro::cli {

namespace {
// A function-local static, so registrations in other files' static initialisers see it constructed.
std::vector<NamedSubcommand>& registry() {
  static std::vector<NamedSubcommand> subcommands;
  return subcommands;
}
}  // namespace

Registration::Registration(std::string name, AddSubcommand add) {
  registry().push_back({std::move(name), std::move(add)});
}

std::vector<NamedSubcommand> registered_subcommands() {
  auto subcommands = registry();
  std::ranges::sort(subcommands, {}, &NamedSubcommand::name);
  return subcommands;
}

CommandFailed::CommandFailed(const std::string& message, int exit_code)
    : CLI::RuntimeError(message, exit_code) {}

}  // namespace maestro::cli
