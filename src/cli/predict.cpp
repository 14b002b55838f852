// `maestro predict`: one observation in, the policy's action out, as one JSON object on stdout.
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "core/observation.hpp"
#include "nn/policy.hpp"

namespace maestro::cli {
namespace {

struct Options {
  std::string policy;
  core::Observation observation;
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
      predict->callback([options] {
        if (auto valid = core::validate(options->observation); !valid)
          throw CLI::ValidationError("observation", valid.error().message);
        auto policy = nn::load_policy(options->policy);
        if (!policy) throw CommandFailed(policy.error().message);
        const nn::Prediction prediction = policy->predict(options->observation);
        const nlohmann::json out = {{"action", static_cast<int>(prediction.action)},
                                    {"action_name", core::action_name(prediction.action)},
                                    {"probabilities", prediction.probabilities},
                                    {"model_version", policy->version()}};
        std::cout << out.dump() << "\n";
      });
    }};

}  // namespace
}  // namespace maestro::cli
