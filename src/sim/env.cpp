#include "sim/env.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "core/scaling.hpp"

namespace maestro::sim {

namespace {

Result<void> validate(const ClusterRandomisation& r) {
  const auto range = [](double lo, double hi) { return std::isfinite(lo) && std::isfinite(hi) && lo <= hi; };
  if (!range(r.startup_seconds_min, r.startup_seconds_max) || r.startup_seconds_min < 0)
    return fail("sim env: start-up range [{}, {}] s is not non-negative and ordered", r.startup_seconds_min,
                r.startup_seconds_max);
  if (!range(r.capacity_scale_min, r.capacity_scale_max) || r.capacity_scale_min <= 0)
    return fail("sim env: capacity scale range [{}, {}] is not positive and ordered", r.capacity_scale_min,
                r.capacity_scale_max);
  if (!(r.chaos_probability >= 0 && r.chaos_probability <= 1))
    return fail("sim env: chaos probability ({}) must be within [0, 1]", r.chaos_probability);
  if (!range(0, r.pod_kills_per_hour_max) || !range(0, r.stress_per_hour_max))
    return fail("sim env: chaos rates must not be negative");
  return {};
}

}  // namespace

Result<EnvConfig> validate(const EnvConfig& config) {
  if (auto cluster = validate(config.cluster); !cluster) return std::unexpected(cluster.error());
  if (auto features = core::validate(config.features); !features) return std::unexpected(features.error());
  if (auto randomisation = validate(config.randomisation); !randomisation)
    return std::unexpected(randomisation.error());
  if (config.actions.size() < 2 || config.actions.names.size() != config.actions.changes.size())
    return fail("sim env: the action set '{}' needs at least two actions, each named", config.actions.name);
  if (auto reward = core::validate(config.reward); !reward) return std::unexpected(reward.error());
  if (config.control_interval_seconds < 1 || config.control_interval_seconds > 3600)
    return fail("sim env: control interval ({} s) must be within [1, 3600]", config.control_interval_seconds);
  if (config.episode_steps < 1) return fail("sim env: episodes need at least one step");
  const double duration = static_cast<double>(config.control_interval_seconds) * (config.episode_steps + 1);
  if (auto traffic = traffic::validate(config.traffic, duration); !traffic)
    return std::unexpected(traffic.error());
  return config;
}

int replicas_for_action(int current, const core::ActionSet& actions, int code,
                        const core::ReplicaBounds& bounds, const core::Observation& observed,
                        const ClusterConfig& cluster) {
  const auto desired = core::replicas_after(
      actions, code, current, core::CpuBasis{observed.cpu_usage, cluster.service.cpu_request_cores});
  assert(desired.has_value());
  return core::clamp_replicas(desired.value_or(current), bounds);
}

ClusterConfig draw_episode_cluster(const ClusterConfig& base, const ClusterRandomisation& randomisation,
                                   std::mt19937_64& rng) {
  if (!randomisation.enabled) return base;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const auto between = [&](double lo, double hi) { return lo + (hi - lo) * unit(rng); };
  ClusterConfig cluster = base;
  cluster.startup.median_seconds =
      between(randomisation.startup_seconds_min, randomisation.startup_seconds_max);
  cluster.service.cpu_seconds_per_request /=
      between(randomisation.capacity_scale_min, randomisation.capacity_scale_max);
  if (!randomisation.balancers.empty())
    cluster.balancer = randomisation.balancers[std::uniform_int_distribution<std::size_t>(
        0, randomisation.balancers.size() - 1)(rng)];
  cluster.chaos = {};
  if (unit(rng) < randomisation.chaos_probability) {
    cluster.chaos = base.chaos;
    cluster.chaos.pod_kills_per_hour = between(0, randomisation.pod_kills_per_hour_max);
    cluster.chaos.stress_per_hour = between(0, randomisation.stress_per_hour_max);
  }
  return cluster;
}

rl::PolicyDescription policy_description(const EnvConfig& config, std::string environment,
                                         std::vector<nn::DataWindow> training_data) {
  return {std::move(environment),
          std::string(core::feature_set_name(config.features.set)),
          config.features.memory_limit_bytes_per_pod,
          config.actions.name,
          config.actions.names,
          std::string(core::reward_name(config.reward.kind)),
          core::reward_weights(config.reward),
          std::move(training_data)};
}

namespace {

// The share of the interval's requests that users saw over the soft SLO: served over it, or dropped.
double share_over_slo(const ClusterTotals& before, const ClusterTotals& after) {
  const double arrivals = after.arrivals - before.arrivals;
  if (arrivals <= 0) return 0;
  const double over =
      (after.requests_over_soft - before.requests_over_soft) + (after.dropped - before.dropped);
  return std::clamp(over / arrivals, 0.0, 1.0);
}

}  // namespace

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
  if (config_.randomisation.enabled)
    cluster_ = Cluster(draw_episode_cluster(config_.cluster, config_.randomisation, rng));
  const auto& bounds = config_.cluster.bounds;
  int initial = config_.cluster.initial_replicas;
  if (config_.random_initial_replicas)
    initial = std::uniform_int_distribution<int>(bounds.min, std::max(bounds.min, bounds.max / 2))(rng);
  cluster_.reset(arrivals_, rng(), std::max(initial, bounds.min));
  features_.reset();
  steps_ = 0;
  cluster_.advance(interval);
  write_features(observation);
}

rl::StepResult Env::step(int action, std::span<double> observation) {
  const int interval = config_.control_interval_seconds;
  const int before_replicas = cluster_.replicas();
  const ClusterTotals before = cluster_.totals();
  cluster_.set_replicas(replicas_for_action(before_replicas, config_.actions, action, config_.cluster.bounds,
                                            last_observation_, cluster_.config()));
  const bool scaled = cluster_.replicas() != before_replicas;
  cluster_.advance(interval);
  write_features(observation);
  ++steps_;
  rl::StepResult result;
  const int max_replicas = config_.cluster.bounds.max;
  if (config_.reward.kind == core::RewardKind::kOriginal) {
    const auto reward = core::compute_reward(cluster_.replicas(), max_replicas, last_observation_.latency,
                                             config_.cluster.slo);
    result.reward = reward.value;
    result.terminated = reward.terminated;
  } else {
    const auto& after = cluster_.totals();
    result.reward = core::compute_cost_reward({after.pod_seconds - before.pod_seconds, double(interval),
                                               max_replicas, share_over_slo(before, after), scaled},
                                              config_.reward.weights)
                        .value;
  }
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
          {"pod_hours", totals.pod_seconds / 3600},
          {"scaling_actions", static_cast<double>(totals.scaling_actions)}};
}

}  // namespace maestro::sim
