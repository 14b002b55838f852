#include "core/reward.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>

namespace maestro::core {

Result<LatencyConstraints> validate(const LatencyConstraints& constraints) {
  if (constraints.soft_ms.has_value() != constraints.hard_ms.has_value())
    return fail("latency constraints: set both the soft and the hard constraint, or neither");
  if (!constraints.set()) return constraints;
  const double soft = *constraints.soft_ms;
  const double hard = *constraints.hard_ms;
  if (!std::isfinite(soft) || soft <= 0)
    return fail("latency constraints: soft ({}) must be a positive number", soft);
  if (!std::isfinite(hard) || hard <= 0)
    return fail("latency constraints: hard ({}) must be a positive number", hard);
  if (soft >= hard) return fail("latency constraints: soft ({} ms) must be below hard ({} ms)", soft, hard);
  return constraints;
}

Reward compute_reward(int replicas, int max_replicas, double latency_ms,
                      const LatencyConstraints& constraints) {
  assert(max_replicas > 0);
  Reward reward;
  reward.replica_term = static_cast<double>(max_replicas - replicas) / max_replicas;
  if (constraints.set()) {
    const double soft = *constraints.soft_ms;
    const double hard = *constraints.hard_ms;
    if (latency_ms <= soft) {
      reward.latency_term = 1;
    } else if (latency_ms <= hard) {
      reward.latency_term = 1 - (latency_ms - soft) / (hard - soft);
    } else {
      reward.latency_term = -1;
      reward.terminated = true;
    }
  }
  reward.value = kReplicaWeight * reward.replica_term + kLatencyWeight * reward.latency_term;
  return reward;
}

std::string_view reward_name(RewardKind kind) {
  return kind == RewardKind::kOriginal ? "original" : "cost";
}

std::vector<std::string> reward_names() {
  return {"original", "cost"};
}

Result<RewardSpec> reward_from_name(std::string_view name) {
  if (name == "original") return RewardSpec{RewardKind::kOriginal, {}};
  if (name == "cost") return RewardSpec{RewardKind::kCost, {}};
  return fail("unknown reward '{}' (known: original, cost)", name);
}

Result<RewardSpec> validate(const RewardSpec& spec) {
  if (spec.kind == RewardKind::kOriginal) return spec;
  const auto& w = spec.weights;
  for (const auto& [name, value] : reward_weights(spec))
    if (!std::isfinite(value) || value < 0)
      return fail("reward weight {} ({}) must be a non-negative number", name, value);
  if (w.pods == 0 && w.slo == 0 && w.action == 0) return fail("reward weights are all zero");
  return spec;
}

namespace {

Result<void> set_weight(RewardSpec& spec, std::string_view name, double value) {
  if (name == "pods")
    spec.weights.pods = value;
  else if (name == "slo")
    spec.weights.slo = value;
  else if (name == "action")
    spec.weights.action = value;
  else
    return fail("unknown reward weight '{}' (the cost reward has pods, slo, action)", name);
  return {};
}

}  // namespace

Result<RewardSpec> apply_reward_weights(RewardSpec spec, std::string_view text) {
  if (text.empty()) return validate(spec);
  if (spec.kind == RewardKind::kOriginal)
    return fail("the original reward's weights are fixed (0.3 replicas, 0.7 latency); use --reward cost");
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const auto equals = item.find('=');
    if (equals == std::string_view::npos) return fail("reward weight '{}': expected NAME=VALUE", item);
    const std::string_view value_text = item.substr(equals + 1);
    double value = 0;
    const auto [end, error] =
        std::from_chars(value_text.data(), value_text.data() + value_text.size(), value);
    if (error != std::errc{} || end != value_text.data() + value_text.size())
      return fail("reward weight '{}': '{}' is not a number", item, value_text);
    if (auto ok = set_weight(spec, item.substr(0, equals), value); !ok) return std::unexpected(ok.error());
  }
  return validate(spec);
}

std::vector<std::pair<std::string, double>> reward_weights(const RewardSpec& spec) {
  if (spec.kind == RewardKind::kOriginal) return {{"replicas", kReplicaWeight}, {"latency", kLatencyWeight}};
  return {{"pods", spec.weights.pods}, {"slo", spec.weights.slo}, {"action", spec.weights.action}};
}

Result<RewardSpec> reward_from_record(std::string_view name,
                                      std::span<const std::pair<std::string, double>> weights) {
  auto spec = reward_from_name(name);
  if (!spec) return spec;
  if (spec->kind == RewardKind::kOriginal) {
    const auto fixed = reward_weights(*spec);
    if (!std::equal(weights.begin(), weights.end(), fixed.begin(), fixed.end()))
      return fail("the original reward's weights must be replicas 0.3, latency 0.7");
    return spec;
  }
  if (weights.size() != 3)
    return fail("the cost reward records 3 weights (pods, slo, action), not {}", weights.size());
  for (const auto& [weight, value] : weights)
    if (auto ok = set_weight(*spec, weight, value); !ok) return std::unexpected(ok.error());
  return validate(*spec);
}

CostReward compute_cost_reward(const IntervalOutcome& outcome, const CostWeights& weights) {
  assert(outcome.interval_seconds > 0 && outcome.max_replicas > 0);
  CostReward reward;
  reward.pods_term = weights.pods * outcome.pod_seconds / (outcome.interval_seconds * outcome.max_replicas);
  reward.slo_term = weights.slo * std::clamp(outcome.share_over_slo, 0.0, 1.0);
  reward.action_term = outcome.scaled ? weights.action : 0.0;
  reward.value = -(reward.pods_term + reward.slo_term + reward.action_term);
  return reward;
}

}  // namespace maestro::core
