#include "cli/envs.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "eval/scenario.hpp"
#include "eval/training.hpp"
#include "live/sources.hpp"
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

// A live deployment (live::Env) through its Kubernetes API and Prometheus, fine-tuning `init_policy` (whose
// feature set, action set and reward it keeps) or, without one, a policy of the options' features, actions
// and reward.
Result<MadeEnv> live_env(const EnvOptions& o) {
  if (!o.scenario.empty()) return fail("the live environment has no scenarios: its traffic is the world's");
  if (o.deployment.empty()) return fail("the live environment needs --deployment");
  live::EnvConfig config;
  config.namespace_ = o.namespace_;
  config.deployment = o.deployment;
  config.bounds = {o.min_replicas, o.max_replicas};
  const auto milliseconds = [](double seconds) {
    return std::chrono::milliseconds(std::llround(seconds * 1000));
  };
  config.interval = milliseconds(o.interval_seconds);
  config.window = std::chrono::seconds(
      std::llround(std::ceil(o.window_seconds > 0 ? o.window_seconds : o.interval_seconds)));
  config.metrics_wait = milliseconds(o.metrics_wait_seconds);
  config.episode_steps = o.episode_steps;
  rl::PolicyDescription description;
  if (!o.init_policy.empty()) {
    auto policy = nn::read_policy_file(o.init_policy);
    if (!policy) return fail("--init-policy: {}", policy.error().message);
    const auto spec = policy->feature_spec();
    const auto actions = policy->actions();
    if (!spec || !actions) return fail("--init-policy: {} is not an autoscaling policy", o.init_policy);
    auto reward = core::reward_from_record(policy->metadata.reward, policy->metadata.reward_weights);
    if (!reward) return fail("--init-policy: {}", reward.error().message);
    config.features = *spec;
    config.actions = *actions;
    config.reward = *reward;
    description = {"",
                   policy->feature_set,
                   policy->memory_limit_bytes_per_pod,
                   policy->action_set,
                   policy->action_names,
                   policy->metadata.reward,
                   policy->metadata.reward_weights,
                   policy->metadata.training_data};
  } else {
    const auto features = core::feature_set_from_name(o.features.empty() ? "extended" : o.features);
    if (!features) return fail("unknown feature set '{}'", o.features);
    auto actions = core::action_set_from_name(o.actions);
    if (!actions) return std::unexpected(actions.error());
    auto reward = core::reward_from_name(o.reward);
    if (reward) reward = core::apply_reward_weights(*reward, o.reward_weights);
    if (!reward) return std::unexpected(reward.error());
    config.features = {*features, core::FeatureSpec{}.memory_limit_bytes_per_pod};
    config.actions = *actions;
    config.reward = *reward;
    description = {"",
                   std::string(core::feature_set_name(*features)),
                   config.features.memory_limit_bytes_per_pod,
                   actions->name,
                   actions->names,
                   std::string(core::reward_name(reward->kind)),
                   core::reward_weights(*reward),
                   {}};
  }
  description.environment = fmt::format("live:{}/{}", o.namespace_, o.deployment);
  if (!o.chaos_file.empty()) {
    std::ifstream file(o.chaos_file);
    if (!file) return fail("--chaos: cannot read {}", o.chaos_file);
    config.chaos_spec.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    if (o.chaos_url.empty()) return fail("--chaos needs --chaos-url (the local cluster's STATE/chaos.url)");
  }
  auto env = live::connect({o.kubeconfig, o.prometheus, o.chaos_url}, config);
  if (!env) return std::unexpected(env.error());
  return MadeEnv{std::move(*env), std::move(description)};
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
      {"live", live_env},
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
