// A MaestroAutoscaler (deploy/crd/maestroautoscalers.yaml) as the controller reads it, and the status it
// writes back. Parsing checks what the CRD's schema and CEL rules check (the API server may not have: an old
// cluster, or an object written before the CRD), so that a bad object is refused with a message naming the
// field and changes nothing. The status keeps the HPA's condition types (AbleToScale, ScalingActive,
// ScalingLimited), with a condition's lastTransitionTime moving only when its status does.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "core/scaling.hpp"
#include "services/controller/decision.hpp"

namespace maestro::controller {

inline constexpr const char* kAutoscalerApiVersion = "autoscaling.maestro.io/v1alpha1";
inline constexpr const char* kAutoscalerKind = "MaestroAutoscaler";

struct ScaleTargetRef {
  std::string api_version;  // "apps/v1"
  std::string kind;         // "Deployment"
  std::string name;
};

enum class AutoscalerPolicy { kLearned, kHpa };

// KEDA's fallback: after `failure_threshold` intervals in a row that could not decide, hold (no replicas)
// or scale to `replicas`.
struct AutoscalerFallback {
  int failure_threshold = 1;
  std::optional<int> replicas;
};

struct Autoscaler {
  std::string namespace_;
  std::string name;
  std::string uid;
  std::int64_t generation = 1;
  ScaleTargetRef target;
  core::ReplicaBounds bounds;
  std::chrono::seconds interval{15};
  AutoscalerPolicy policy = AutoscalerPolicy::kLearned;
  std::string learned_policy;          // policy.learned.name
  int target_cpu_utilization = 0;      // policy.hpa.targetCPUUtilizationPercentage, percent
  std::optional<int> latency_soft_ms;  // slo, milliseconds of p95 latency
  std::optional<int> latency_hard_ms;
  // behavior, as the HPA's; a direction given without policies has the HPA's default ones. Its rate limits
  // apply; its stabilizationWindowSeconds does not (yet).
  std::optional<core::ScalingRules> scale_up;
  std::optional<core::ScalingRules> scale_down;
  bool dry_run = false;
  bool paused = false;
  std::optional<AutoscalerFallback> fallback;
};

// The autoscaler in `object` (a MaestroAutoscaler as the API answers it); an error names the object and the
// field, e.g. "MaestroAutoscaler shop/web: spec.minReplicas (12) must not be greater than spec.maxReplicas
// (10)".
Result<Autoscaler> parse_autoscaler(const nlohmann::json& object);

// "namespace/name" of what an autoscaler scales, as the controller keys its targets.
std::string target_key(const Autoscaler& autoscaler);

// The settings to reconcile the target with: `defaults` (step, cooldown) with the resource's bounds,
// interval, dry-run, behavior rate limits and decision source (policy HPA: the HPA source with the
// resource's CPU target, and its scale-down stabilisation window if behavior.scaleDown gives one).
DeploymentSettings settings_for(const DeploymentSettings& defaults, const Autoscaler& autoscaler);

struct AutoscalerCondition {
  std::string type;    // "AbleToScale", "ScalingActive", "ScalingLimited"
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;
  std::string last_transition_time;  // RFC 3339
};

struct AutoscalerDecision {
  std::string time;
  std::string action;
  std::string result;  // scaled, held, dry_run, paused, refused, failed, fallback
  std::string reason;
  std::string message;
};

struct AutoscalerStatus {
  std::int64_t observed_generation = 0;
  std::optional<int> current_replicas;
  std::optional<int> desired_replicas;
  std::string last_scale_time;
  int consecutive_failures = 0;
  std::optional<AutoscalerDecision> last_decision;
  std::vector<AutoscalerCondition> conditions;

  // What a listed object's .status says (what is missing or malformed is left out).
  static AutoscalerStatus from_json(const nlohmann::json& status);
  nlohmann::json to_json() const;
  // Sets the condition of `type`; its lastTransitionTime becomes `now` only if its status changed.
  void set_condition(const std::string& type, const std::string& status, const std::string& reason,
                     const std::string& message, const std::string& now);
  const AutoscalerCondition* condition(const std::string& type) const;
};

}  // namespace maestro::controller
