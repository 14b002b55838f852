#include "cli/envs.hpp"

#include <functional>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "rl/cartpole.hpp"

namespace maestro::cli {

namespace {

Result<MadeEnv> cartpole(const EnvOptions& options) {
  if (!options.scenario.empty()) return fail("cartpole has no scenarios (got '{}')", options.scenario);
  return MadeEnv{std::make_unique<rl::CartPole>(), {"cartpole", "cartpole", 0, {"push_left", "push_right"}}};
}

using Factory = std::function<Result<MadeEnv>(const EnvOptions&)>;

// name → factory. Add an environment with one line here.
const std::vector<std::pair<std::string, Factory>>& table() {
  static const std::vector<std::pair<std::string, Factory>> environments = {
      {"cartpole", cartpole},
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
