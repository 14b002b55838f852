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
  return MadeEnv{std::make_unique<rl::CartPole>(),
                 {"cartpole", "cartpole", 0, "cartpole", {"push_left", "push_right"}, "cartpole", {}, {}}};
}

// The cluster simulator (sim::Env) with a scenario's service and SLO and per-episode randomised traffic;
// the scenario is a built-in name, a YAML file, a trace file, or "mix" (the default: NASA, World Cup and
// every synthetic shape). Traces come from $MAESTRO_SHARED_DIR or ../shared beside the repository.
Result<MadeEnv> simulator(const EnvOptions& options, core::FeatureSet features) {
  const auto shared = eval::locate_shared_dir("", std::getenv("MAESTRO_SHARED_DIR"),
                                              std::filesystem::read_symlink("/proc/self/exe"));
  if (!shared) return std::unexpected(shared.error());
  const std::string scenario = options.scenario.empty() ? "mix" : options.scenario;
  auto config = eval::training_env_config(scenario, {}, features, *shared);
  if (!config) return std::unexpected(config.error());
  auto actions = core::action_set_from_name(options.actions);
  if (!actions) return std::unexpected(actions.error());
  config->actions = *actions;
  auto reward = core::reward_from_name(options.reward);
  if (reward) reward = core::apply_reward_weights(*reward, options.reward_weights);
  if (!reward) return std::unexpected(reward.error());
  config->reward = *reward;
  config->randomisation.enabled = options.randomise_cluster;
  auto description =
      sim::policy_description(*config, "sim:" + scenario, eval::training_data(scenario, *config));
  return MadeEnv{std::make_unique<sim::Env>(*config), std::move(description)};
}

using Factory = std::function<Result<MadeEnv>(const EnvOptions&)>;

// name → factory. Add an environment with one line here.
const std::vector<std::pair<std::string, Factory>>& table() {
  static const std::vector<std::pair<std::string, Factory>> environments = {
      {"cartpole", cartpole},
      {"sim",
       [](const EnvOptions& o) {
         const auto features = o.features.empty() ? std::optional(eval::recommended_recipe().features)
                                                  : core::feature_set_from_name(o.features);
         if (!features) return Result<MadeEnv>(fail("unknown feature set '{}'", o.features));
         return simulator(o, *features);
       }},
      // The name from before sim's features were an option.
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
