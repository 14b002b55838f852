#include "sim/env.hpp"

#include <algorithm>
#include <cassert>

#include "core/action.hpp"
#include "core/scaling.hpp"

namespace maestro::sim {

Result<EnvConfig> validate(const EnvConfig& config) {
  if (auto cluster = validate(config.cluster); !cluster) return std::unexpected(cluster.error());
  if (auto features = core::validate(config.features); !features) return std::unexpected(features.error());
  if (config.control_interval_seconds < 1 || config.control_interval_seconds > 3600)
    return fail("sim env: control interval ({} s) must be within [1, 3600]", config.control_interval_seconds);
  if (config.episode_steps < 1) return fail("sim env: episodes need at least one step");
  if (config.action_step < 1)
    return fail("sim env: the action step ({}) must be at least 1 pod", config.action_step);
  const double duration = static_cast<double>(config.control_interval_seconds) * (config.episode_steps + 1);
  if (auto traffic = traffic::validate(config.traffic, duration); !traffic)
    return std::unexpected(traffic.error());
  return config;
}

int replicas_for_action(int current, int action, int step, const core::ReplicaBounds& bounds) {
  const auto decoded = core::action_from_code(action);
  assert(decoded.has_value());
  return core::clamp_replicas(core::apply_action(current, decoded.value_or(core::Action::kHold), step),
                              bounds);
}

Env::Env(const EnvConfig& config) : config_(config), cluster_(config.cluster), features_(config.features) {}

void Env::write_features(std::span<double> out) {
  last_observation_ = cluster_.observe();
  features_.build(last_observation_, core::DeploymentStatus{static_cast<double>(cluster_.starting_pods())},
                  feature_buffer_);
  assert(out.size() == feature_buffer_.size());
  std::copy(feature_buffer_.begin(), feature_buffer_.end(), out.begin());
}

void Env::reset(std::uint64_t seed, std::span<double> observation) {
  std::mt19937_64 rng(seed);
  const int interval = config_.control_interval_seconds;
  // One interval of warm-up before the first observation, so that the rate window holds traffic.
  const int duration = interval * (config_.episode_steps + 1);
  const auto shape = traffic::draw_episode_shape(config_.traffic, duration, rng);
  arrivals_ = traffic::sample_arrivals(traffic::render_rates(shape, duration, rng), rng);
  const auto& bounds = config_.cluster.bounds;
  int initial = config_.cluster.initial_replicas;
  if (config_.random_initial_replicas)
    initial = std::uniform_int_distribution<int>(bounds.min, std::max(bounds.min, bounds.max / 2))(rng);
  cluster_.reset(arrivals_, rng(), std::max(initial, bounds.min));
  features_.reset();
  steps_ = 0;
  last_reward_ = 0;
  cluster_.advance(interval);
  write_features(observation);
}

rl::StepResult Env::step(int action, std::span<double> observation) {
  cluster_.set_replicas(
      replicas_for_action(cluster_.replicas(), action, config_.action_step, config_.cluster.bounds));
  cluster_.advance(config_.control_interval_seconds);
  write_features(observation);
  ++steps_;
  const auto reward = core::compute_reward(cluster_.replicas(), config_.cluster.bounds.max,
                                           last_observation_.latency, config_.cluster.slo);
  last_reward_ = reward.value;
  rl::StepResult result;
  result.reward = reward.value;
  result.terminated = config_.terminate_over_hard && reward.terminated;
  result.truncated = !result.terminated && steps_ >= config_.episode_steps;
  return result;
}

std::vector<std::pair<std::string, double>> Env::info() const {
  const auto& totals = cluster_.totals();
  return {{"replicas", static_cast<double>(cluster_.replicas())},
          {"ready_pods", static_cast<double>(cluster_.ready_pods())},
          {"latency_ms", last_observation_.latency},
          {"rps", last_observation_.rps},
          {"dropped", totals.dropped},
          {"seconds_over_soft", totals.seconds_over_soft},
          {"pod_hours", totals.pod_seconds / 3600}};
}

}  // namespace maestro::sim
