// Scaling rules as pure functions: bounds, step size, rate limits per period and stabilisation windows.
// The rate limits and stabilisation follow the Kubernetes HPA's `behavior` semantics
// (pkg/controller/podautoscaler/horizontal.go), so that the controller and the HPA baseline share them.
#pragma once

#include <chrono>
#include <span>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "base/error.hpp"
#include "core/action.hpp"

namespace maestro::core {

struct ReplicaBounds {
  int min = 1;
  int max = 10;
};

// 0 ≤ min ≤ max and max ≥ 1.
Result<ReplicaBounds> validate(const ReplicaBounds& bounds);

int clamp_replicas(int desired, const ReplicaBounds& bounds);

// current − step, current or current + step for the action; not clamped.
int apply_action(int current, Action action, int step);

enum class ScalingPolicyType { kPods, kPercent };

struct ScalingPolicy {
  ScalingPolicyType type = ScalingPolicyType::kPods;
  int value = 1;                    // pods, or percent of the replicas at the period's start
  std::chrono::seconds period{15};  // how far back changes count against this policy
};

// Which policy wins when several allow different changes (the HPA's selectPolicy).
enum class PolicySelect { kMax, kMin, kDisabled };

struct ScalingRules {
  std::chrono::seconds stabilization_window{0};
  PolicySelect select = PolicySelect::kMax;
  std::vector<ScalingPolicy> policies;
};

// A change that was applied: replica_change is its size, positive for both directions
// (scale-up and scale-down events are kept in separate lists, as the HPA does).
struct ScaleEvent {
  base::Clock::TimePoint at;
  int replica_change = 0;
  bool outdated = false;  // older than the longest policy period when last checked: its slot may be reused
};

// A desired replica count computed at some time, kept for the stabilisation windows.
struct Recommendation {
  base::Clock::TimePoint at;
  int replicas = 0;
};

// The sum of the changes of events strictly after now − period.
int replicas_changed_in_period(std::span<const ScaleEvent> events, std::chrono::seconds period,
                               base::Clock::TimePoint now);

// The most replicas the scale-up rules allow now (may be below current).
int scale_up_limit(int current, std::span<const ScaleEvent> up_events,
                   std::span<const ScaleEvent> down_events, const ScalingRules& up_rules,
                   base::Clock::TimePoint now);

// The fewest replicas the scale-down rules allow now (may be above current).
int scale_down_limit(int current, std::span<const ScaleEvent> up_events,
                     std::span<const ScaleEvent> down_events, const ScalingRules& down_rules,
                     base::Clock::TimePoint now);

// Why a rate-limited count is what it is (the HPA's ScalingLimited condition reasons).
enum class LimitReason {
  kDesiredWithinRange,
  kScaleUpLimit,
  kScaleDownLimit,
  kTooManyReplicas,
  kTooFewReplicas
};

// "DesiredWithinRange", "ScaleUpLimit", ... as the HPA writes them.
std::string_view limit_reason_name(LimitReason reason);

struct RateLimited {
  int replicas = 0;
  LimitReason reason = LimitReason::kDesiredWithinRange;
};

// Desired replicas limited by the rate rules and the bounds, with the reason
// (the HPA's convertDesiredReplicasWithBehaviorRate). A desired count equal to current is returned as is.
RateLimited limit_rate_with_reason(int current, int desired, std::span<const ScaleEvent> up_events,
                                   std::span<const ScaleEvent> down_events, const ScalingRules& up_rules,
                                   const ScalingRules& down_rules, const ReplicaBounds& bounds,
                                   base::Clock::TimePoint now);

// Desired replicas limited by the rate rules and the bounds (the HPA's
// convertDesiredReplicasWithBehaviorRate).
int limit_rate(int current, int desired, std::span<const ScaleEvent> up_events,
               std::span<const ScaleEvent> down_events, const ScalingRules& up_rules,
               const ScalingRules& down_rules, const ReplicaBounds& bounds, base::Clock::TimePoint now);

// Desired replicas held within what the recommendations of the last windows allow: scale up only to the
// lowest recommendation of the up window, down only to the highest of the down window
// (the HPA's stabilizeRecommendationWithBehaviors). `recommendations` should include the current one.
int stabilise(int current, int desired, std::span<const Recommendation> recommendations,
              std::chrono::seconds up_window, std::chrono::seconds down_window, base::Clock::TimePoint now);

}  // namespace maestro::core
