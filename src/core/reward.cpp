#include "core/reward.hpp"

#include <cassert>
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

}  // namespace maestro::core
