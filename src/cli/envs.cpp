#include "cli/envs.hpp"

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "eval/scenario.hpp"
#include "eval/training.hpp"
#include "nn/policy_file.hpp"
#include "rl/cartpole.hpp"
#include "sim/env.hpp"

namespace maestro::cli {

namespace {

Result<MadeEnv> cartpole(const EnvOptions& options) {
  if (!options.scenario.empty()) return fail("cartpole has no scenarios (got '{}')", options.scenario);
  return MadeEnv{std::make_unique<rl::CartPole>(), {"cartpole", "cartpole", 0, {"push_left", "push_right"}}};
}

// The cluster simulator (sim::Env) with a scenario's service and SLO and per-episode randomised traffic;
// the scenario is a built-in name, a YAML file, a trace file, or "mix" (the default: NASA, World Cup and
// every synthetic shape). Traces come from $MAESTRO_SHARED_DIR or ../shared beside the repository.
Result<MadeEnv> simulator(const EnvOptions& options, core::FeatureSet features) {
  const auto shared = eval::locate_shared_dir("", std::getenv("MAESTRO_SHARED_DIR"),
                                              std::filesystem::read_symlink("/proc/self/exe"));
  if (!shared) return std::unexpected(shared.error());
  const std::string scenario = options.scenario.empty() ? "mix" : options.scenario;
  const auto config = eval::training_env_config(scenario, {}, features, *shared);
  if (!config) return std::unexpected(config.error());
  return MadeEnv{std::make_unique<sim::Env>(*config),
                 {"sim:" + scenario, std::string(core::feature_set_name(features)),
                  config->features.memory_limit_bytes_per_pod, nn::autoscaling_action_names()}};
}

using Factory = std::function<Result<MadeEnv>(const EnvOptions&)>;

// name → factory. Add an environment with one line here.
const std::vector<std::pair<std::string, Factory>>& table() {
  static const std::vector<std::pair<std::string, Factory>> environments = {
      {"cartpole", cartpole},
      {"sim", [](const EnvOptions& o) { return simulator(o, core::FeatureSet::kOriginal); }},
      {"sim-extended", [](const EnvOptions& o) { return simulator(o, core::FeatureSet::kExtended); }},
  };
  return environments;
}

}  // namespace

Result<MadeEnv> make_env(const EnvOptions& options) {
  for (const auto& [name, factory] : table())
    if (name == options.name) return factory(options);
  return fail("unknown environment '{}' (known: {})", options.name, fmt::join(env_names(), ", "));
}

std::vector<std::string> env_names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : table()) names.push_back(name);
  return names;
}

}  // namespace maestro::cli
