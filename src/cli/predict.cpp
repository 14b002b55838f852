// `maestro predict`: one observation in, the policy's action out, as one JSON object on stdout. A policy
// whose feature set needs history also needs --features, the complete feature vector, and one whose actions
// are utilisation targets --cpu-request (docs/api.md).
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "core/observation.hpp"
#include "nn/policy.hpp"
#include "services/model_server/model_server.hpp"

namespace maestro::cli {
namespace {

struct Options {
  std::string policy;
  core::Observation observation;
  std::vector<double> features;
  std::optional<double> cpu_request_cores;
};

const Registration kRegistration{
    "predict", [](CLI::App& maestro) {
      auto options = std::make_shared<Options>();
      auto* predict = maestro.add_subcommand("predict", "Ask a policy what to do for one observation");
      predict->add_option("--policy", options->policy, "Policy file")->required();
      core::Observation& o = options->observation;
      predict->add_option("--cpu-usage", o.cpu_usage, "CPU of all pods, percent of one core")->required();
      predict->add_option("--memory-usage", o.memory_usage, "Working-set memory of all pods, bytes")
          ->required();
      predict->add_option("--replicas", o.replicas, "Current replicas")->required();
      predict->add_option("--latency", o.latency, "p95 latency, milliseconds")->required();
      predict->add_option("--rps", o.rps, "Requests per second")->required();
      predict
          ->add_option("--features", options->features,
                       "The complete feature vector, comma-separated (a feature set with history needs it)")
          ->delimiter(',');
      predict
          ->add_option(
              "--cpu-request", options->cpu_request_cores,
              "One pod's CPU request, cores (a policy whose actions are utilisation targets needs it)")
          ->check(CLI::PositiveNumber);
      predict->callback([options] {
        if (auto valid = core::validate(options->observation); !valid)
          throw CLI::ValidationError("observation", valid.error().message);
        auto policy = nn::load_policy(options->policy);
        if (!policy) throw CommandFailed(policy.error().message);
        if (policy->action_set().needs_cpu() && !options->cpu_request_cores)
          throw CLI::ValidationError("--cpu-request",
                                     fmt::format("the policy's action set '{}' sizes the deployment for a "
                                                 "CPU utilisation: say one pod's CPU request",
                                                 policy->action_set().name));
        const auto prediction = options->features.empty()
                                    ? policy->predict(options->observation)
                                    : policy->predict(options->observation, options->features);
        if (!prediction) throw CLI::ValidationError("observation", prediction.error().message);
        std::optional<core::CpuBasis> cpu;
        if (options->cpu_request_cores)
          cpu = core::CpuBasis{options->observation.cpu_usage, *options->cpu_request_cores};
        std::string out;
        model_server::PredictionJson(policy->action_set(), policy->version())
            .write({.action = prediction->action, .probabilities = prediction->probabilities},
                   options->observation.replicas, cpu, out);
        std::cout << out << "\n";
      });
    }};

}  // namespace
}  // namespace maestro::cli
