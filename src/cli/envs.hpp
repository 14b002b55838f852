// Environments by name, for `maestro train` and whoever else trains or evaluates: one small table from a
// name to a function that builds the environment and says how its policy file describes it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "rl/env.hpp"
#include "rl/ppo.hpp"

namespace maestro::cli {

struct EnvOptions {
  std::string name;      // "cartpole", …
  std::string scenario;  // free-form, meaning up to the environment (e.g. a scenario name or file)
  // The simulator's: a feature set name (empty: extended), a core::ActionSet name, a core reward name and its
  // weights ("pods=1,slo=10"), and whether each episode draws its cluster (start-up, capacity, chaos) as well
  // as its traffic.
  std::string features;
  std::string actions = "multi";
  std::string reward = "cost";
  std::string reward_weights;
  bool randomise_cluster = true;
};

struct MadeEnv {
  std::unique_ptr<rl::Env> env;
  rl::PolicyDescription description;
};

Result<MadeEnv> make_env(const EnvOptions& options);
std::vector<std::string> env_names();

}  // namespace maestro::cli
