#include "hpa/hpa.hpp"

#include <algorithm>
#include <cmath>

namespace maestro::hpa {

PodGroup classify_pod(const PodSample& pod, TimePoint now, const CalculatorConfig& config) {
  if (pod.deleting || pod.phase == PodPhase::kFailed) return PodGroup::kIgnored;
  if (pod.phase == PodPhase::kPending) return PodGroup::kUnready;
  if (!pod.usage_m) return PodGroup::kMissing;
  if (!pod.ready || !pod.start_time) return PodGroup::kUnready;
  bool unready;
  if (*pod.start_time + config.cpu_initialization_period > now) {
    // Still initialising: ignore the sample if the pod is unready or the sample may predate readiness.
    unready = !*pod.ready || pod.sample_time < pod.ready_transition + pod.sample_window;
  } else {
    // Ignore it only if the pod is unready and never became ready.
    unready = !*pod.ready && *pod.start_time + config.delay_of_initial_readiness > pod.ready_transition;
  }
  return unready ? PodGroup::kUnready : PodGroup::kReady;
}

namespace {

// GetResourceUtilizationRatio over summed usage and requests.
struct Utilisation {
  double ratio = 0;
  std::int64_t percent = 0;
};

Utilisation utilisation(std::int64_t usage_total, std::int64_t request_total, int target) {
  const std::int64_t percent = usage_total * 100 / request_total;  // int32 in Go; integer division
  return {static_cast<double>(percent) / target, percent};
}

}  // namespace

Result<ResourceReplicas> resource_replicas(int current_replicas, int target_utilization_percent,
                                           std::span<const PodSample> pods, std::size_t unlisted_samples,
                                           TimePoint now, const CalculatorConfig& config) {
  const auto sampled = static_cast<std::size_t>(
      std::count_if(pods.begin(), pods.end(), [](const PodSample& p) { return p.usage_m.has_value(); }));
  if (sampled + unlisted_samples == 0)
    return fail("unable to get metrics for resource cpu: no metrics returned from resource metrics API");
  if (pods.empty()) return fail("no pods returned by selector while calculating replica count");

  std::vector<PodGroup> groups(pods.size());
  int ready_count = 0;
  bool any_unready = false, any_missing = false;
  for (std::size_t i = 0; i < pods.size(); ++i) {
    groups[i] = classify_pod(pods[i], now, config);
    ready_count += groups[i] == PodGroup::kReady;
    any_unready |= groups[i] == PodGroup::kUnready;
    any_missing |= groups[i] == PodGroup::kMissing;
  }
  // Samples of ignored and unready pods are dropped; unlisted ones stay (they match no request).
  if (static_cast<std::size_t>(ready_count) + unlisted_samples == 0)
    return fail("did not receive metrics for targeted pods (pods might be unready)");
  for (std::size_t i = 0; i < pods.size(); ++i)
    if (!pods[i].request_m) return fail("missing request for cpu in container of pod {}", i);

  std::int64_t usage_total = 0, request_total = 0;
  std::size_t entries = 0;
  for (std::size_t i = 0; i < pods.size(); ++i) {
    if (groups[i] != PodGroup::kReady) continue;
    usage_total += *pods[i].usage_m;
    request_total += *pods[i].request_m;
    ++entries;
  }
  if (request_total == 0) return fail("no metrics returned matched known pods");
  const auto first = utilisation(usage_total, request_total, target_utilization_percent);
  ResourceReplicas result{current_replicas, static_cast<int>(first.percent),
                          usage_total / static_cast<std::int64_t>(entries)};
  const double ratio = first.ratio;
  const auto& tolerances = config.tolerances;

  const bool scale_up_with_unready = any_unready && ratio > 1.0;
  if (!scale_up_with_unready && !any_missing) {
    if (!tolerances.within(ratio)) result.replicas = static_cast<int>(std::ceil(ratio * ready_count));
    return result;
  }

  // Second pass: missing pods assumed at max(100 %, target) of request on a scale-down and at 0 on a
  // scale-up; on a scale-up unready pods count at 0 as well.
  std::size_t metric_count = entries + unlisted_samples;
  for (std::size_t i = 0; i < pods.size(); ++i) {
    const std::int64_t request = *pods[i].request_m;
    if (groups[i] == PodGroup::kMissing && ratio != 1.0) {
      if (ratio < 1.0) usage_total += request * std::max<std::int64_t>(100, target_utilization_percent) / 100;
      request_total += request;
      ++metric_count;
    } else if (groups[i] == PodGroup::kUnready && scale_up_with_unready) {
      request_total += request;
      ++metric_count;
    }
  }
  const double new_ratio = utilisation(usage_total, request_total, target_utilization_percent).ratio;
  if (tolerances.within(new_ratio) || (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0))
    return result;  // too small a change, or the direction would flip
  const int new_replicas = static_cast<int>(std::ceil(new_ratio * static_cast<double>(metric_count)));
  if ((new_ratio < 1.0 && new_replicas > current_replicas) ||
      (new_ratio > 1.0 && new_replicas < current_replicas))
    return result;
  result.replicas = new_replicas;
  return result;
}

int stabilize_legacy(int desired, std::vector<core::Recommendation>& history, seconds window, TimePoint now) {
  int highest = desired;
  std::optional<std::size_t> expired;
  const TimePoint cutoff = now - window;
  for (std::size_t i = 0; i < history.size(); ++i) {
    if (history[i].at <= cutoff)
      expired = i;
    else
      highest = std::max(highest, history[i].replicas);
  }
  if (expired)
    history[*expired] = {now, desired};
  else
    history.push_back({now, desired});
  return highest;
}

core::RateLimited limit_legacy(int current, int desired, int min_replicas, int max_replicas,
                               double scale_up_factor, double scale_up_minimum) {
  const auto scale_up_limit = static_cast<int>(std::max(scale_up_factor * current, scale_up_minimum));
  const bool cap_binds = max_replicas > scale_up_limit;
  const int allowed = cap_binds ? scale_up_limit : max_replicas;
  if (desired < min_replicas) return {min_replicas, core::LimitReason::kTooFewReplicas};
  if (desired > allowed)
    return {allowed, cap_binds ? core::LimitReason::kScaleUpLimit : core::LimitReason::kTooManyReplicas};
  return {desired, core::LimitReason::kDesiredWithinRange};
}

Behavior default_behavior(seconds down_window) {
  using core::PolicySelect;
  using core::ScalingPolicyType;
  return Behavior{
      core::ScalingRules{
          seconds(0),
          PolicySelect::kMax,
          {{ScalingPolicyType::kPods, 4, seconds(15)}, {ScalingPolicyType::kPercent, 100, seconds(15)}}},
      core::ScalingRules{down_window, PolicySelect::kMax, {{ScalingPolicyType::kPercent, 100, seconds(15)}}}};
}

int stabilize_with_behavior(int current, int desired, std::vector<core::Recommendation>& history,
                            const Behavior& behavior, TimePoint now) {
  const seconds up_window = behavior.scale_up.stabilization_window;
  const seconds down_window = behavior.scale_down.stabilization_window;
  const int stabilised = core::stabilise(current, desired, history, up_window, down_window, now);
  std::optional<std::size_t> expired;
  for (std::size_t i = 0; i < history.size(); ++i)
    if (history[i].at <= now - up_window && history[i].at <= now - down_window) expired = i;
  if (expired)
    history[*expired] = {now, desired};
  else
    history.push_back({now, desired});
  return stabilised;
}

void store_scale_event(const Behavior* behavior, std::vector<core::ScaleEvent>& up_events,
                       std::vector<core::ScaleEvent>& down_events, int previous_replicas, int new_replicas,
                       TimePoint now) {
  if (!behavior) return;  // nothing would read them
  const bool up = new_replicas > previous_replicas;
  const core::ScalingRules& rules = up ? behavior->scale_up : behavior->scale_down;
  std::vector<core::ScaleEvent>& events = up ? up_events : down_events;
  seconds longest{0};
  for (const auto& policy : rules.policies) longest = std::max(longest, policy.period);
  std::optional<std::size_t> outdated;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].at <= now - longest) events[i].outdated = true;
    if (events[i].outdated) outdated = i;
  }
  const core::ScaleEvent event{now, std::abs(new_replicas - previous_replicas), false};
  if (outdated)
    events[*outdated] = event;
  else
    events.push_back(event);
}

HpaSpec default_spec(int min_replicas, int max_replicas, int target_utilization_percent,
                     seconds down_window) {
  return HpaSpec{std::max(1, min_replicas), max_replicas, target_utilization_percent,
                 default_behavior(down_window)};
}

Result<HpaSpec> validate(const HpaSpec& spec) {
  if (spec.min_replicas < 1) return fail("hpa: min replicas ({}) must be at least 1", spec.min_replicas);
  if (spec.max_replicas < spec.min_replicas)
    return fail("hpa: max replicas ({}) is below min replicas ({})", spec.max_replicas, spec.min_replicas);
  if (spec.target_utilization_percent < 1)
    return fail("hpa: target utilisation ({} %) must be positive", spec.target_utilization_percent);
  return spec;
}

Controller::Controller(const HpaSpec& spec, const ControllerConfig& config) : spec_(spec), config_(config) {}

ReconcileResult Controller::reconcile(int current_replicas, std::span<const PodSample> pods,
                                      std::size_t unlisted_samples, TimePoint now) {
  if (!history_seen_) {  // recordInitialRecommendation
    recommendations_ = {{now, current_replicas}};
    history_seen_ = true;
  }
  const int min_replicas = spec_.min_replicas;
  ReconcileResult result;
  result.rescale = true;
  if (current_replicas == 0 && min_replicas != 0) {
    result.desired_replicas = 0;  // autoscaling is disabled for this target
    result.rescale = false;
  } else if (current_replicas > spec_.max_replicas) {
    result.desired_replicas = spec_.max_replicas;
  } else if (current_replicas < min_replicas) {
    result.desired_replicas = min_replicas;
  } else {
    const auto metric = resource_replicas(current_replicas, spec_.target_utilization_percent, pods,
                                          unlisted_samples, now, config_.calculator);
    if (!metric) {
      result.desired_replicas = current_replicas;
      result.rescale = false;
      result.metric_error = metric.error();
      return result;
    }
    const int desired = std::max(0, metric->replicas);
    if (spec_.behavior) {
      const Behavior& behavior = *spec_.behavior;
      const int stabilised =
          stabilize_with_behavior(current_replicas, desired, recommendations_, behavior, now);
      result.desired_replicas =
          core::limit_rate_with_reason(current_replicas, stabilised, up_events_, down_events_,
                                       behavior.scale_up, behavior.scale_down,
                                       core::ReplicaBounds{min_replicas, spec_.max_replicas}, now)
              .replicas;
    } else {
      const int stabilised =
          stabilize_legacy(desired, recommendations_, config_.downscale_stabilization, now);
      result.desired_replicas = limit_legacy(current_replicas, stabilised, min_replicas, spec_.max_replicas,
                                             config_.scale_up_limit_factor, config_.scale_up_limit_minimum)
                                    .replicas;
    }
    result.rescale = result.desired_replicas != current_replicas;
  }
  if (result.rescale)
    store_scale_event(spec_.behavior ? &*spec_.behavior : nullptr, up_events_, down_events_, current_replicas,
                      result.desired_replicas, now);
  return result;
}

}  // namespace maestro::hpa
