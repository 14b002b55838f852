// Rewards by name (DESIGN §2). `original` is the seed's: 0.3·r1 + 0.7·r2, where r1 rewards few replicas and
// r2 rewards p95 latency under the soft constraint; over the hard constraint the episode terminates.
// `cost` (the default for new policies) prices what users pay for, per control interval, without ending
// the episode: pod-seconds, requests over the soft SLO and each scaling action. A policy file records the
// reward's name and weights (reward_weights()).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"

namespace maestro::core {

struct LatencyConstraints {
  std::optional<double> soft_ms;  // the deployment's latencySoftConstraint annotation
  std::optional<double> hard_ms;  // the deployment's latencyHardConstraint annotation

  bool set() const { return soft_ms.has_value() && hard_ms.has_value(); }
};

// Both set, or both unset; when set, finite, positive and soft < hard.
Result<LatencyConstraints> validate(const LatencyConstraints& constraints);

struct Reward {
  double value = 0;         // 0.3·r1 + 0.7·r2
  double replica_term = 0;  // r1 = (max − replicas) / max
  double latency_term = 0;  // r2; 0 without constraints
  bool terminated = false;  // latency over the hard constraint
};

inline constexpr double kReplicaWeight = 0.3;
inline constexpr double kLatencyWeight = 0.7;

// The original reward. Constraints must have passed validate().
Reward compute_reward(int replicas, int max_replicas, double latency_ms,
                      const LatencyConstraints& constraints);

enum class RewardKind { kOriginal, kCost };

// The cost reward's prices, per control interval. Their scale orders what the policy prefers: a step with
// every request over the SLO costs 10 (then a share of 1 % costs 0.1), a step at the replica ceiling
// costs 1 (one pod of 20 costs 0.05), a scaling action 0.5 (ten pods of 20 for one interval: 150
// pod-seconds at 15 s, what the recipe's cloned schedule pays for a change; against 0.05 it took the
// recipe's policies from 26–31 to 21–25 actions an hour on NASA and nearer the frontier, docs/evaluation.md).
// So the SLO comes first, then fewer pods, then fewer actions; and sitting at the ceiling costs more than
// the violations it avoids as soon as a few pods would hold the SLO.
struct CostWeights {
  double pods = 1;      // per interval at max replicas (pod-seconds ÷ (interval × max replicas))
  double slo = 10;      // per interval with every request over the soft SLO (a share in [0, 1])
  double action = 0.5;  // per scaling action (an interval whose replica count changed)

  friend bool operator==(const CostWeights&, const CostWeights&) = default;
};

struct RewardSpec {
  RewardKind kind = RewardKind::kCost;
  CostWeights weights;  // cost only

  friend bool operator==(const RewardSpec&, const RewardSpec&) = default;
};

std::string_view reward_name(RewardKind kind);  // "original", "cost"
std::vector<std::string> reward_names();
// The reward of that name with its default weights, or an error naming the known rewards.
Result<RewardSpec> reward_from_name(std::string_view name);
// Weights finite and non-negative, and not all zero.
Result<RewardSpec> validate(const RewardSpec& spec);
// `text` is "pods=1,slo=10,action=0.5" (any subset, any order) over the spec's weights; the original
// reward's weights are fixed, so any text is refused for it.
Result<RewardSpec> apply_reward_weights(RewardSpec spec, std::string_view text);
// Name → weight, as the policy file records them: original: replicas 0.3, latency 0.7; cost: pods, slo,
// action.
std::vector<std::pair<std::string, double>> reward_weights(const RewardSpec& spec);
// The reward a policy file records (reward_name and reward_weights), checked.
Result<RewardSpec> reward_from_record(std::string_view name,
                                      std::span<const std::pair<std::string, double>> weights);

// What one control interval cost, as the cost reward prices it.
struct IntervalOutcome {
  double pod_seconds = 0;       // billed in the interval: starting, ready and draining pods
  double interval_seconds = 0;  // > 0
  int max_replicas = 1;         // > 0
  double share_over_slo = 0;    // of the interval's requests over the soft SLO (dropped ones count), [0, 1]
  bool scaled = false;          // the replica count changed at its start
};

struct CostReward {
  double value = 0;  // −(pods_term + slo_term + action_term)
  double pods_term = 0;
  double slo_term = 0;
  double action_term = 0;
};

CostReward compute_cost_reward(const IntervalOutcome& outcome, const CostWeights& weights);

}  // namespace maestro::core
