#include "eval/policies.hpp"

#include <charconv>

#include "eval/baselines.hpp"
#include "nn/policy.hpp"
#include "sim/env.hpp"

namespace maestro::eval {

FeaturePolicyAutoscaler::FeaturePolicyAutoscaler(const core::FeatureSpec& spec, Act act,
                                                 core::ActionSet actions)
    : features_(spec), act_(std::move(act)), actions_(std::move(actions)) {}

void FeaturePolicyAutoscaler::reset(const sim::Cluster&) {
  features_.reset();
}

int FeaturePolicyAutoscaler::decide(const sim::Cluster& cluster, const core::Observation& observation) {
  features_.build(observation, core::DeploymentStatus{static_cast<double>(cluster.starting_pods())}, buffer_);
  const int action = act_(buffer_);
  return sim::replicas_for_action(cluster.replicas(), actions_, action, cluster.config().bounds);
}

KpaConfig kpa_config_for(const sim::ClusterConfig& cluster) {
  KpaConfig config;
  config.target_rps_per_pod = 0.7 * cluster.service.service_rate();
  return config;
}

namespace {

std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

PolicyEntry hpa_entry(std::string name, int target, int window) {
  return {std::move(name), [target, window](const Scenario& scenario, std::span<const double>) {
            return make_hpa(scenario.cluster.bounds, target, std::chrono::seconds(window));
          }};
}

}  // namespace

Result<PolicyEntry> trained_policy_entry(const std::string& path, const std::string& name) {
  auto file = nn::read_policy_file(path);
  if (!file) return fail("policy file {}: {}", path, file.error().message);
  auto entry = trained_policy_entry(*file, name);
  if (!entry) return fail("policy file {}: {}", path, entry.error().message);
  return entry;
}

Result<PolicyEntry> trained_policy_entry(const nn::PolicyFile& file, const std::string& name) {
  const auto spec = file.feature_spec();
  const auto actions = file.actions();
  if (!spec || !actions)
    return fail("feature set '{}' and action set '{}' are not an autoscaling policy's", file.feature_set,
                file.action_set);
  auto actor = std::make_shared<const nn::Actor>(file);
  return PolicyEntry{
      name, [actor, spec = *spec, actions = *actions](const Scenario&, std::span<const double>) {
        return std::make_unique<FeaturePolicyAutoscaler>(
            spec, [actor](std::span<const double> features) { return actor->act(features); }, actions);
      }};
}

Result<std::vector<PolicyEntry>> policy_entries(const std::string& spec) {
  if (spec == "hpa") return std::vector{hpa_entry("hpa", 70, 300)};
  if (spec.starts_with("hpa:")) {
    const std::string_view rest = std::string_view(spec).substr(4);
    const auto colon = rest.find(':');
    const auto target = parse_int(rest.substr(0, colon));
    const auto window =
        colon == std::string_view::npos ? std::optional<int>(300) : parse_int(rest.substr(colon + 1));
    if (!target || *target < 1 || *target > 1000 || !window || *window < 0 || *window > 3600)
      return fail("policy '{}': expected hpa:TARGET_PERCENT[:WINDOW_SECONDS]", spec);
    return std::vector{hpa_entry(fmt::format("hpa-t{}-w{}", *target, *window), *target, *window)};
  }
  if (spec == "hpa-sweep") {
    std::vector<PolicyEntry> entries;
    for (const int window : {60, 300})
      for (int target = 30; target <= 90; target += 10)
        entries.push_back(hpa_entry(fmt::format("hpa-t{}-w{}", target, window), target, window));
    return entries;
  }
  if (spec == "kpa") {
    return std::vector{PolicyEntry{"kpa", [](const Scenario& scenario, std::span<const double>) {
                                     return std::make_unique<KpaAutoscaler>(kpa_config_for(scenario.cluster));
                                   }}};
  }
  if (spec == "static") {
    return std::vector{PolicyEntry{"static", [](const Scenario& scenario, std::span<const double> arrivals) {
                                     return std::make_unique<StaticAutoscaler>(
                                         static_allocation_for(scenario.cluster, arrivals));
                                   }}};
  }
  if (spec.starts_with("static:")) {
    const auto pods = parse_int(std::string_view(spec).substr(7));
    if (!pods || *pods < 0) return fail("policy '{}': expected static:PODS", spec);
    return std::vector{PolicyEntry{spec, [pods = *pods](const Scenario&, std::span<const double>) {
                                     return std::make_unique<StaticAutoscaler>(pods);
                                   }}};
  }
  if (spec == "oracle") {
    return std::vector{PolicyEntry{"oracle", [](const Scenario&, std::span<const double>) {
                                     return std::make_unique<OracleAutoscaler>();
                                   }}};
  }
  if (spec.starts_with("ppo:")) {
    auto entry = trained_policy_entry(spec.substr(4));
    if (!entry) return std::unexpected(entry.error());
    return std::vector{std::move(*entry)};
  }
  return fail("unknown policy '{}' (hpa, hpa:T[:W], hpa-sweep, kpa, static, static:N, oracle, ppo:FILE)",
              spec);
}

}  // namespace maestro::eval
