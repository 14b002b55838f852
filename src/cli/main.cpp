// maestro: the learned autoscaler's command line. Subcommands register themselves (command.hpp).
#include <iostream>

#include "cli/command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"MAESTRO: a learned autoscaler for Kubernetes", "maestro"};
  app.set_version_flag("--version", std::string("maestro ") + MAESTRO_VERSION);
  app.require_subcommand(1);
  for (const auto& subcommand : maestro::cli::registered_subcommands()) subcommand.add(app);

  try {
    app.parse(argc, argv);
  } catch (const maestro::cli::CommandFailed& failure) {
    std::cerr << "maestro: " << failure.what() << "\n";
    return failure.get_exit_code();
  } catch (const CLI::ParseError& error) {
    // --help and --version exit 0; every other parse or validation error is a usage error.
    const int code = app.exit(error);
    return code == 0 ? 0 : maestro::cli::kUsageError;
  }
  return 0;
}
