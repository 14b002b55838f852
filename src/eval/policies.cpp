#include "eval/policies.hpp"

#include <charconv>

#include "eval/baselines.hpp"
#include "eval/oracle.hpp"
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
  return sim::replicas_for_action(cluster.replicas(), actions_, action, cluster.config().bounds, observation,
                                  cluster.config());
}

KpaConfig kpa_config_for(const sim::ClusterConfig& cluster, int target_percent) {
  KpaConfig config;
  config.target_rps_per_pod = target_percent / 100.0 * cluster.service.service_rate();
  return config;
}

namespace {

std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

PolicyEntry hpa_entry(int target, int window, std::string name = "") {
  return {name.empty() ? fmt::format("hpa-t{}-w{}", target, window) : std::move(name),
          [target, window](const Scenario& scenario, std::span<const double>) {
            return make_hpa(scenario.cluster.bounds, target, std::chrono::seconds(window));
          },
          PolicyRole::kBaseline};
}

PolicyEntry kpa_entry(std::string name, int target_percent) {
  return {std::move(name),
          [target_percent](const Scenario& scenario, std::span<const double>) {
            return std::make_unique<KpaAutoscaler>(kpa_config_for(scenario.cluster, target_percent));
          },
          PolicyRole::kBaseline};
}

PolicyEntry static_entry(int pods) {
  return {
      fmt::format("static:{}", pods),
      [pods](const Scenario&, std::span<const double>) { return std::make_unique<StaticAutoscaler>(pods); },
      PolicyRole::kBaseline};
}

PolicyEntry oracle_entry(double violation_price) {
  return {violation_price > 0 ? fmt::format("oracle-p{}", violation_price) : "oracle-schedule",
          [violation_price](const Scenario& run_scenario, std::span<const double> arrivals) {
            return std::make_unique<OracleScheduleAutoscaler>(
                solve_oracle(oracle_problem(run_scenario, arrivals, violation_price)).ready);
          },
          PolicyRole::kOracleSchedule};
}

PolicyEntry sweep_point(PolicyEntry entry) {
  entry.sweep_point = true;
  return entry;
}

// The sweeps' targets: 30 % to 95 % in steps of 5.
std::vector<int> sweep_targets() {
  std::vector<int> targets;
  for (int target = 30; target <= 95; target += 5) targets.push_back(target);
  return targets;
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
  PolicyEntry entry{
      name, [actor, spec = *spec, actions = *actions](const Scenario&, std::span<const double>) {
        return std::make_unique<FeaturePolicyAutoscaler>(
            spec, [actor](std::span<const double> features) { return actor->act(features); }, actions);
      }};
  entry.training_data = file.metadata.training_data;
  return entry;
}

Result<std::vector<PolicyEntry>> policy_entries(const std::string& spec, const Scenario& scenario) {
  const auto target_and_window = [&](std::string_view rest, int default_window) {
    const auto colon = rest.find(':');
    const auto target = parse_int(rest.substr(0, colon));
    const auto window = colon == std::string_view::npos ? std::optional<int>(default_window)
                                                        : parse_int(rest.substr(colon + 1));
    return std::pair{target, window};
  };
  if (spec == "hpa") return std::vector{hpa_entry(70, 300, "hpa")};
  if (spec.starts_with("hpa:")) {
    const auto [target, window] = target_and_window(std::string_view(spec).substr(4), 300);
    if (!target || *target < 1 || *target > 1000 || !window || *window < 0 || *window > 3600)
      return fail("policy '{}': expected hpa:TARGET_PERCENT[:WINDOW_SECONDS]", spec);
    return std::vector{hpa_entry(*target, *window)};
  }
  if (spec == "hpa-sweep") {
    std::vector<PolicyEntry> entries;
    // Windows beyond the default 300 s are part of tuning an HPA: on bursty traffic a long scale-down
    // window holds the recent peak's pods, which a 300 s window gives back between bursts.
    for (const int window : {0, 60, 300, 900, 1800, 3600})
      for (const int target : sweep_targets()) entries.push_back(sweep_point(hpa_entry(target, window)));
    return entries;
  }
  if (spec == "kpa") return std::vector{kpa_entry("kpa", 70)};
  if (spec.starts_with("kpa:")) {
    const auto target = parse_int(std::string_view(spec).substr(4));
    if (!target || *target < 1 || *target > 1000)
      return fail("policy '{}': expected kpa:TARGET_PERCENT (of a pod's capacity in requests/s)", spec);
    return std::vector{kpa_entry(fmt::format("kpa-t{}", *target), *target)};
  }
  if (spec == "kpa-sweep") {
    std::vector<PolicyEntry> entries;
    for (const int target : sweep_targets())
      entries.push_back(sweep_point(kpa_entry(fmt::format("kpa-t{}", target), target)));
    return entries;
  }
  if (spec == "static") {
    return std::vector{PolicyEntry{"static",
                                   [](const Scenario& scenario, std::span<const double> arrivals) {
                                     return std::make_unique<StaticAutoscaler>(
                                         static_allocation_for(scenario.cluster, arrivals));
                                   },
                                   PolicyRole::kBaseline}};
  }
  if (spec.starts_with("static:")) {
    const auto pods = parse_int(std::string_view(spec).substr(7));
    if (!pods || *pods < 0) return fail("policy '{}': expected static:PODS", spec);
    return std::vector{static_entry(*pods)};
  }
  if (spec == "static-sweep") {
    std::vector<PolicyEntry> entries;
    for (int pods = std::max(1, scenario.cluster.bounds.min); pods <= scenario.cluster.bounds.max; ++pods)
      entries.push_back(sweep_point(static_entry(pods)));
    return entries;
  }
  if (spec == "oracle" || spec == "oracle-schedule") return std::vector{oracle_entry(0)};
  if (spec.starts_with("oracle:")) {
    double price = 0;
    const std::string_view text = std::string_view(spec).substr(7);
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), price);
    if (error != std::errc{} || end != text.data() + text.size() || !(price > 0 && price <= 1e6))
      return fail("policy '{}': expected oracle:PRICE (pod-seconds per request over the SLO, above 0)", spec);
    return std::vector{oracle_entry(price)};
  }
  if (spec == "oracle-sweep") {
    std::vector<PolicyEntry> entries;
    for (const double price : {0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 20.0})
      entries.push_back(oracle_entry(price));
    return entries;
  }
  if (spec.starts_with("ppo:")) {
    auto entry = trained_policy_entry(spec.substr(4));
    if (!entry) return std::unexpected(entry.error());
    return std::vector{std::move(*entry)};
  }
  return fail(
      "unknown policy '{}' (hpa, hpa:T[:W], hpa-sweep, kpa, kpa:T, kpa-sweep, static, static:N, "
      "static-sweep, oracle, oracle:P, oracle-sweep, ppo:FILE)",
      spec);
}

}  // namespace maestro::eval
