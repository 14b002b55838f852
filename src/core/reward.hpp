// The original project's reward (DESIGN §2): 0.3·r1 + 0.7·r2, where r1 rewards few replicas and r2
// rewards p95 latency under the soft constraint; over the hard constraint the episode terminates.
#pragma once

#include <optional>

#include "core/error.hpp"

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

// Constraints must have passed validate().
Reward compute_reward(int replicas, int max_replicas, double latency_ms,
                      const LatencyConstraints& constraints);

}  // namespace maestro::core
