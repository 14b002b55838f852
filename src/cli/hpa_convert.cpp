// `maestro hpa convert FILE [--learned NAME --slo-soft MS --slo-hard MS]`: prints the MaestroAutoscaler (in
// dry-run) that does what the HorizontalPodAutoscaler in FILE does (services/controller/hpa_conversion.hpp).
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "cli/command.hpp"
#include "services/controller/hpa_conversion.hpp"

namespace maestro::cli {
namespace {

const Registration kRegistration{
    "hpa", [](CLI::App& maestro) {
      auto* hpa = maestro.add_subcommand("hpa", "Work with HorizontalPodAutoscaler objects");
      hpa->require_subcommand(1);
      auto* convert =
          hpa->add_subcommand("convert", "Print the MaestroAutoscaler for an HPA's YAML (in dry-run)");
      auto file = std::make_shared<std::string>();
      auto options = std::make_shared<controller::HpaConversion>();
      convert->add_option("file", *file, "The HPA's YAML (kubectl get hpa NAME -o yaml)")
          ->required()
          ->check(CLI::ExistingFile);
      convert->add_option("--learned", options->learned_policy,
                          "Use this learned policy instead of the HPA's algorithm");
      convert
          ->add_option("--slo-soft", options->latency_soft_ms, "With --learned: the soft p95 objective, ms")
          ->check(CLI::PositiveNumber);
      convert
          ->add_option("--slo-hard", options->latency_hard_ms, "With --learned: the hard p95 objective, ms")
          ->check(CLI::PositiveNumber);
      convert->callback([file, options] {
        std::ifstream in(*file);
        std::ostringstream text;
        text << in.rdbuf();
        auto converted = controller::maestro_autoscaler_from_hpa(text.str(), *options);
        if (!converted) throw CommandFailed(fmt::format("{}: {}", *file, converted.error().message));
        std::cout << *converted;
      });
    }};

}  // namespace
}  // namespace maestro::cli
