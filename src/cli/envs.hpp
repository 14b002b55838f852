// Environments by name, for `maestro train` and whoever else trains or evaluates: one small table from a
// name to a function that builds the environment and says how its policy file describes it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"
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
  // The live environment's (live::Env, docs/live-training.md): the policy it starts from (its features,
  // actions and reward are kept; without one, the options above), the deployment and where it lives.
  std::string init_policy;
  std::string kubeconfig;  // empty: in-cluster
  std::string prometheus;  // URL
  std::string chaos_url;   // the local cluster's chaos endpoint (STATE/chaos.url); empty: no chaos
  std::string chaos_file;  // Chaos Mesh specs applied at the first episode (e.g. a Schedule)
  std::string namespace_ = "default";
  std::string deployment;
  double interval_seconds = 15;
  double window_seconds = 0;  // 0: the interval
  double metrics_wait_seconds = 30;
  int episode_steps = 40;
  int min_replicas = 1, max_replicas = 10;
};

struct MadeEnv {
  std::unique_ptr<rl::Env> env;
  rl::PolicyDescription description;
};

Result<MadeEnv> make_env(const EnvOptions& options);
std::vector<std::string> env_names();

}  // namespace maestro::cli
