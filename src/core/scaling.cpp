#include "core/scaling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace maestro::core {

Result<ReplicaBounds> validate(const ReplicaBounds& bounds) {
  if (bounds.min < 0) return fail("min replicas ({}) must not be negative", bounds.min);
  if (bounds.max < 1) return fail("max replicas ({}) must be at least 1", bounds.max);
  if (bounds.min > bounds.max)
    return fail("min replicas ({}) exceeds max replicas ({})", bounds.min, bounds.max);
  return bounds;
}

int clamp_replicas(int desired, const ReplicaBounds& bounds) {
  return std::clamp(desired, bounds.min, bounds.max);
}

int apply_action(int current, Action action, int step) {
  switch (action) {
    case Action::kScaleDown:
      return current - step;
    case Action::kHold:
      return current;
    case Action::kScaleUp:
      return current + step;
  }
  return current;
}

int replicas_changed_in_period(std::span<const ScaleEvent> events, std::chrono::seconds period,
                               base::Clock::TimePoint now) {
  const auto cutoff = now - period;
  int changed = 0;
  for (const auto& event : events)
    if (event.at > cutoff) changed += event.replica_change;
  return changed;
}

namespace {

int period_start_replicas(int current, std::span<const ScaleEvent> up_events,
                          std::span<const ScaleEvent> down_events, std::chrono::seconds period,
                          base::Clock::TimePoint now) {
  return current - replicas_changed_in_period(up_events, period, now) +
         replicas_changed_in_period(down_events, period, now);
}

}  // namespace

int scale_up_limit(int current, std::span<const ScaleEvent> up_events,
                   std::span<const ScaleEvent> down_events, const ScalingRules& up_rules,
                   base::Clock::TimePoint now) {
  if (up_rules.select == PolicySelect::kDisabled) return current;
  // For scale-up the largest change is the highest limit.
  const bool take_largest = up_rules.select == PolicySelect::kMax;
  int result = take_largest ? std::numeric_limits<int>::min() : std::numeric_limits<int>::max();
  for (const auto& policy : up_rules.policies) {
    const int start = period_start_replicas(current, up_events, down_events, policy.period, now);
    const int proposed = policy.type == ScalingPolicyType::kPods
                             ? start + policy.value
                             // rounded up, or a small deployment could never grow
                             : static_cast<int>(std::ceil(start * (1 + policy.value / 100.0)));
    result = take_largest ? std::max(result, proposed) : std::min(result, proposed);
  }
  return result;
}

int scale_down_limit(int current, std::span<const ScaleEvent> up_events,
                     std::span<const ScaleEvent> down_events, const ScalingRules& down_rules,
                     base::Clock::TimePoint now) {
  if (down_rules.select == PolicySelect::kDisabled) return current;
  // For scale-down the largest change is the lowest limit.
  const bool take_largest = down_rules.select == PolicySelect::kMax;
  int result = take_largest ? std::numeric_limits<int>::max() : std::numeric_limits<int>::min();
  for (const auto& policy : down_rules.policies) {
    const int start = period_start_replicas(current, up_events, down_events, policy.period, now);
    const int proposed = policy.type == ScalingPolicyType::kPods
                             ? start - policy.value
                             : static_cast<int>(start * (1 - policy.value / 100.0));
    result = take_largest ? std::min(result, proposed) : std::max(result, proposed);
  }
  return result;
}

std::string_view limit_reason_name(LimitReason reason) {
  switch (reason) {
    case LimitReason::kDesiredWithinRange:
      return "DesiredWithinRange";
    case LimitReason::kScaleUpLimit:
      return "ScaleUpLimit";
    case LimitReason::kScaleDownLimit:
      return "ScaleDownLimit";
    case LimitReason::kTooManyReplicas:
      return "TooManyReplicas";
    case LimitReason::kTooFewReplicas:
      return "TooFewReplicas";
  }
  return "unknown";
}

RateLimited limit_rate_with_reason(int current, int desired, std::span<const ScaleEvent> up_events,
                                   std::span<const ScaleEvent> down_events, const ScalingRules& up_rules,
                                   const ScalingRules& down_rules, const ReplicaBounds& bounds,
                                   base::Clock::TimePoint now) {
  if (desired > current) {
    // Never below current: past events only stop further growth until they age out.
    const int limit = std::max(current, scale_up_limit(current, up_events, down_events, up_rules, now));
    const bool rate_binds = bounds.max > limit;
    const int allowed = rate_binds ? limit : bounds.max;
    if (allowed < desired)
      return {allowed, rate_binds ? LimitReason::kScaleUpLimit : LimitReason::kTooManyReplicas};
  } else if (desired < current) {
    const int limit = std::min(current, scale_down_limit(current, up_events, down_events, down_rules, now));
    const bool rate_binds = bounds.min < limit;
    const int allowed = rate_binds ? limit : bounds.min;
    if (allowed > desired)
      return {allowed, rate_binds ? LimitReason::kScaleDownLimit : LimitReason::kTooFewReplicas};
  }
  return {desired, LimitReason::kDesiredWithinRange};
}

int limit_rate(int current, int desired, std::span<const ScaleEvent> up_events,
               std::span<const ScaleEvent> down_events, const ScalingRules& up_rules,
               const ScalingRules& down_rules, const ReplicaBounds& bounds, base::Clock::TimePoint now) {
  return limit_rate_with_reason(current, desired, up_events, down_events, up_rules, down_rules, bounds, now)
      .replicas;
}

int stabilise(int current, int desired, std::span<const Recommendation> recommendations,
              std::chrono::seconds up_window, std::chrono::seconds down_window, base::Clock::TimePoint now) {
  int up_recommendation = desired;
  int down_recommendation = desired;
  const auto up_cutoff = now - up_window;
  const auto down_cutoff = now - down_window;
  for (const auto& recommendation : recommendations) {
    if (recommendation.at > up_cutoff)
      up_recommendation = std::min(up_recommendation, recommendation.replicas);
    if (recommendation.at > down_cutoff)
      down_recommendation = std::max(down_recommendation, recommendation.replicas);
  }
  return std::min(std::max(current, up_recommendation), down_recommendation);
}

}  // namespace maestro::core
