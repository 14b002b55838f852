// How a subcommand joins the `maestro` command: a file in src/cli/ defines one
//   const maestro::cli::Registration kRegistration{"name", [](CLI::App& maestro) { ... }};
// whose function adds the subcommand (with its options and callback) to the top-level app.
//
// Exit status: 0 on success; 2 for a usage error (unknown flag, bad value) — throw CLI::ValidationError
// or any CLI::ParseError; 1 for a failure at run time — throw CommandFailed after printing why.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace maestro::cli {

inline constexpr int kUsageError = 2;

using AddSubcommand = std::function<void(CLI::App& maestro)>;

struct Registration {
  Registration(std::string name, AddSubcommand add);
};

struct NamedSubcommand {
  std::string name;
  AddSubcommand add;
};

// Every registered subcommand, in name order.
std::vector<NamedSubcommand> registered_subcommands();

// A run-time failure whose message goes to stderr; the command exits with `exit_code`.
class CommandFailed : public CLI::RuntimeError {
 public:
  explicit CommandFailed(const std::string& message, int exit_code = 1);
};

}  // namespace maestro::cli
