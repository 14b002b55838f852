#include "services/controller/decision.hpp"

#include <algorithm>

namespace maestro::controller {

void ScalingHistory::belong_to(const std::string& deployment_uid) {
  if (uid == deployment_uid) return;
  up.clear();
  down.clear();
  uid = deployment_uid;
}

void ScalingHistory::record(int from, int to, base::Clock::TimePoint at) {
  if (to > from) up.push_back({at, to - from});
  if (to < from) down.push_back({at, from - to});
}

void ScalingHistory::prune(base::Clock::TimePoint now, std::chrono::seconds keep) {
  const auto old = [&](const core::ScaleEvent& event) { return event.at <= now - keep; };
  std::erase_if(up, old);
  std::erase_if(down, old);
  for (auto* events : {&up, &down})
    for (auto& event : *events) event.at = std::min(event.at, now);
}

std::string_view decision_reason_name(DecisionReason reason) {
  switch (reason) {
    case DecisionReason::kPolicy:
      return "policy";
    case DecisionReason::kHold:
      return "hold";
    case DecisionReason::kAtBound:
      return "at_bound";
    case DecisionReason::kCooldown:
      return "cooldown";
    case DecisionReason::kIntoBounds:
      return "into_bounds";
    case DecisionReason::kScaleUpLimit:
      return "scale_up_limit";
    case DecisionReason::kScaleDownLimit:
      return "scale_down_limit";
  }
  return "hold";
}

int wanted_replicas(std::string_view action_set, const core::ReplicaChange& change, int current, int step) {
  if (action_set == "original" && change.kind == core::ReplicaChange::Kind::kPods)
    return core::replicas_after({change.kind, change.amount * step}, current).value_or(current);
  // Only a utilisation target has no replicas without the CPU; the suggestion client refuses it.
  return core::replicas_after(change, current).value_or(current);
}

Decision decide(int current, int wanted, const DeploymentSettings& settings, const ScalingHistory& history,
                base::Clock::TimePoint now) {
  const int in_bounds = core::clamp_replicas(current, settings.bounds);
  if (in_bounds != current) return {current, in_bounds, DecisionReason::kIntoBounds};
  if (wanted == current) return {current, current, DecisionReason::kHold};

  const int desired = core::clamp_replicas(wanted, settings.bounds);
  if (desired == current) return {current, current, DecisionReason::kAtBound};

  const int changed_recently = core::replicas_changed_in_period(history.up, settings.cooldown, now) +
                               core::replicas_changed_in_period(history.down, settings.cooldown, now);
  if (changed_recently > 0) return {current, current, DecisionReason::kCooldown};
  if (!settings.scale_up && !settings.scale_down) return {current, desired, DecisionReason::kPolicy};
  // A direction without rules is not limited.
  const core::ScalingRules unlimited_up{
      std::chrono::seconds(0),
      core::PolicySelect::kMax,
      {{core::ScalingPolicyType::kPercent, 100000, std::chrono::seconds(1)}}};
  const core::ScalingRules unlimited_down{
      std::chrono::seconds(0),
      core::PolicySelect::kMax,
      {{core::ScalingPolicyType::kPercent, 100, std::chrono::seconds(1)}}};
  const auto limited = core::limit_rate_with_reason(
      current, desired, history.up, history.down, settings.scale_up.value_or(unlimited_up),
      settings.scale_down.value_or(unlimited_down), settings.bounds, now);
  if (limited.reason == core::LimitReason::kScaleUpLimit)
    return {current, limited.replicas, DecisionReason::kScaleUpLimit};
  if (limited.reason == core::LimitReason::kScaleDownLimit)
    return {current, limited.replicas, DecisionReason::kScaleDownLimit};
  return {current, desired, DecisionReason::kPolicy};
}

std::chrono::seconds history_window(const DeploymentSettings& settings) {
  std::chrono::seconds window = settings.cooldown;
  for (const auto* rules : {&settings.scale_up, &settings.scale_down})
    if (*rules)
      for (const auto& policy : (*rules)->policies) window = std::max(window, policy.period);
  return window;
}

}  // namespace maestro::controller
