// maestro: the learned autoscaler's command line. Subcommands register themselves (command.hpp).
// --log-format and --log-level belong to every subcommand: options of the top-level app that subcommands
// fall through to, so `maestro serve model --log-format json …` and `maestro --log-format json serve model …`
// are the same; they are applied before any subcommand runs.
#include <iostream>

#include <fmt/format.h>

#include "base/build_info.hpp"
#include "base/logging.hpp"
#include "cli/command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"MAESTRO: a learned autoscaler for Kubernetes", "maestro"};
  const auto& build = maestro::base::build_info();
  app.set_version_flag("--version", fmt::format("maestro {} (revision {}, {})", build.version, build.revision,
                                                build.compiler));
  app.require_subcommand(1);
  std::string log_format = "text";
  std::string log_level = "info";
  app.add_option("--log-format", log_format, "Log lines as text or as JSON (time, level, message, fields)")
      ->check(CLI::IsMember(maestro::base::log_format_names()))
      ->capture_default_str();
  app.add_option("--log-level", log_level, "Least severe level logged")
      ->check(CLI::IsMember(maestro::base::log_level_names()))
      ->capture_default_str();
  app.fallthrough();  // before the subcommands are added: they inherit it
  app.parse_complete_callback([&] {
    maestro::base::configure_logging(*maestro::base::log_format_from_name(log_format),
                                     *maestro::base::log_level_from_name(log_level));
  });
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
