// The controller's MaestroAutoscaler part: which targets the resources name, what a reconcile of one does
// before and after its decision, and the status it writes (the HPA's condition types and, where they mean the
// same, its reasons: AmbiguousSelector, ScalingDisabled, SucceededRescale, ReadyForNewScale, FailedGetScale,
// FailedUpdateScale, TooManyReplicas, TooFewReplicas, DesiredWithinRange).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>

#include "base/json_fields.hpp"
#include "prom/credentials.hpp"
#include "services/controller/controller.hpp"
#include "services/controller/controller_target.hpp"

namespace maestro::controller {

namespace {

std::string now_text() {
  return kube::rfc3339(std::chrono::system_clock::now());
}

// The status of an object the controller cannot act on, written while listing.
nlohmann::json refused_status(const nlohmann::json& object, const std::string& reason,
                              const std::string& message) {
  AutoscalerStatus status = AutoscalerStatus::from_json(base::json_object(object, "status"));
  status.observed_generation =
      base::json_integer(base::json_object(object, "metadata"), "generation").value_or(0);
  const std::string now = now_text();
  status.set_condition("ScalingActive", "False", reason, message, now);
  status.last_decision = AutoscalerDecision{now, "", "refused", reason, message};
  return status.to_json();
}

}  // namespace

void Controller::sync_autoscalers() {
  const std::string& ns = config_.autoscalers.namespace_;
  auto listed = autoscalers_->list_autoscalers(ns);
  auto others = listed ? autoscalers_->other_autoscalers(ns) : std::map<std::string, std::string>{};
  if (!listed || !others) {
    const auto& error = listed ? others.error() : listed.error();
    spdlog::warn("autoscalers list failed namespace={} error=\"{}\"", ns, error.message);
    return;
  }
  std::map<std::string, Autoscaler> wanted;        // target key → the resource naming it
  std::map<std::string, nlohmann::json> statuses;  // target key → that resource's status as listed
  std::map<std::string, std::shared_ptr<ScaleClient>> workload_scales;  // target key → if not a Deployment
  for (const auto& object : *listed) {
    const nlohmann::json& metadata = base::json_object(object, "metadata");
    const std::string object_ns = base::json_string(metadata, "namespace"),
                      name = base::json_string(metadata, "name");
    auto parsed = parse_autoscaler(object);
    std::string refusal, message;
    std::shared_ptr<ScaleClient> workload_scale;
    if (!parsed) {
      refusal = "InvalidSpec";
      message = parsed.error().message;
    } else if (parsed->target.kind == "Deployment" &&
               (parsed->target.api_version.empty() || parsed->target.api_version == "apps/v1")) {
      parsed->target.api_version = "apps/v1";
    } else if (!kube_client_) {
      refusal = "UnsupportedTarget";
      message = fmt::format("scaleTargetRef {} {}: this controller scales only apps/v1 Deployments",
                            parsed->target.api_version, parsed->target.kind);
    } else if (auto type =
                   kube::scalable_resource(*kube_client_, parsed->target.api_version, parsed->target.kind);
               !type) {
      // As the HPA: a kind the API does not serve, or one without a scale subresource, cannot be scaled.
      refusal = "FailedGetScale";
      message = fmt::format("scaleTargetRef {} {}: {}", parsed->target.api_version, parsed->target.kind,
                            type.error().message);
    } else {
      workload_scale = std::make_shared<WorkloadScaleClient>(*kube_client_, *type, parsed->target.kind,
                                                             parsed->target.api_version);
    }
    if (refusal.empty() && wanted.contains(target_key(*parsed))) {
      refusal = "AmbiguousSelector";
      message = fmt::format("{} {} is already the target of MaestroAutoscaler {}/{}", parsed->target.kind,
                            target_key(*parsed), object_ns, wanted[target_key(*parsed)].name);
    }
    if (!refusal.empty()) {
      spdlog::warn("autoscaler refused namespace={} name={} reason={} message=\"{}\"", object_ns, name,
                   refusal, message);
      // Written only when it says something new, so that a bad object does not cost a write every refresh.
      const auto status = refused_status(object, refusal, message);
      const auto previous = AutoscalerStatus::from_json(base::json_object(object, "status"));
      const auto* active = previous.condition("ScalingActive");
      if (!active || active->reason != refusal || active->message != message ||
          previous.observed_generation != base::json_integer(status, "observedGeneration").value_or(0))
        if (auto written =
                autoscalers_->write_status(object_ns, name, status, config_.kubernetes.conflict_retries);
            !written)
          spdlog::warn("autoscaler status failed namespace={} name={} error=\"{}\"", object_ns, name,
                       written.error().message);
      continue;
    }
    statuses[target_key(*parsed)] = base::json_object(object, "status");
    workload_scales[target_key(*parsed)] = std::move(workload_scale);
    wanted[target_key(*parsed)] = std::move(*parsed);
  }

  const auto now = clock_.now();
  bool released = false;
  {
    std::lock_guard lock(mutex_);
    for (auto it = targets_.begin(); it != targets_.end();) {
      auto& target = *it->second;
      if (!target.autoscaler || wanted.contains(it->first)) {
        ++it;
        continue;
      }
      // Its resource is gone: as when an HPA is deleted, the replicas stay where they are. The annotations
      // (if any) take it back at the next discovery.
      spdlog::info("autoscaler forget deployment={} autoscaler={}", it->first, target.autoscaler->name);
      released = true;
      const auto forgotten = it->second;
      it = targets_.erase(it);
      forget(forgotten);
    }
    for (auto& [key, autoscaler] : wanted) {
      const auto existing = targets_.find(key);
      if (existing != targets_.end() && existing->second->listed) {
        spdlog::warn("autoscaler ignored deployment={} autoscaler={}: the configuration file lists it", key,
                     autoscaler.name);
        continue;
      }
      const auto other = others->find(
          fmt::format("{}/{}/{}", autoscaler.namespace_, autoscaler.target.kind, autoscaler.target.name));
      const std::string other_autoscaler = other == others->end() ? "" : other->second;
      if (existing != targets_.end() && existing->second->autoscaler) {
        auto& target = *existing->second;
        if (target.autoscaler->generation != autoscaler.generation)
          spdlog::info("autoscaler update deployment={} autoscaler={} generation={}", key, autoscaler.name,
                       autoscaler.generation);
        target.settings = settings_for(config_.defaults, autoscaler);
        target.autoscaler = std::move(autoscaler);
        target.other_autoscaler = other_autoscaler;
        target.workload_scale = workload_scales[key];
        continue;
      }
      Target* target = nullptr;
      if (existing != targets_.end()) {
        spdlog::info("autoscaler takes over deployment={} autoscaler={}: a resource wins over annotations",
                     key, autoscaler.name);
        target = existing->second.get();
        target->settings = settings_for(config_.defaults, autoscaler);
      } else {
        add_target(autoscaler.namespace_, autoscaler.target.name, settings_for(config_.defaults, autoscaler),
                   false, now);
        target = targets_[key].get();
        spdlog::info("autoscaler manage deployment={} autoscaler={} min={} max={}", key, autoscaler.name,
                     autoscaler.bounds.min, autoscaler.bounds.max);
      }
      target->status = AutoscalerStatus::from_json(statuses[key]);
      target->other_autoscaler = other_autoscaler;
      target->workload_scale = workload_scales[key];
      target->autoscaler = std::move(autoscaler);
    }
    autoscalers_listed_once_ = true;
    if (released) next_discovery_ = now;
  }
}

std::optional<bool> Controller::refuse_autoscaled(Target& target, const Autoscaler& autoscaler,
                                                  ScaleClient& scale_client) {
  std::string other;
  {
    std::lock_guard lock(mutex_);
    other = target.other_autoscaler;
  }
  AutoscalerStatus& status = target.status;
  const std::string now = now_text();
  std::string reason, message, result;
  if (!other.empty()) {
    reason = "AmbiguousSelector";
    message = fmt::format("{} also scales {} {}/{}: refusing to act until one of them is removed", other,
                          autoscaler.target.kind, target.namespace_, target.name);
    result = "refused";
  } else if (autoscaler.paused) {
    reason = "ScalingDisabled";
    message = "spec.paused is true: the replicas are held as they are";
    result = "paused";
  } else {
    if (target.conflict_recorded.size()) target.conflict_recorded.clear();
    return std::nullopt;
  }
  if (auto scale = scale_client.get_scale(target.namespace_, target.name))
    status.current_replicas = scale->replicas;
  status.set_condition("ScalingActive", "False", reason, message, now);
  status.last_decision = AutoscalerDecision{now, "", result, reason, message};
  spdlog::info("autoscaler hold namespace={} deployment={} autoscaler={} reason={} message=\"{}\"",
               target.namespace_, target.name, autoscaler.name, reason, message);
  if (!other.empty() && target.conflict_recorded != other) {
    kube::DeploymentEvent event;
    event.namespace_ = autoscaler.namespace_;
    event.deployment = autoscaler.name;
    event.deployment_uid = autoscaler.uid;
    event.involved_kind = kAutoscalerKind;
    event.involved_api_version = kAutoscalerApiVersion;
    event.reason = reason;
    event.message = message;
    event.type = "Warning";
    if (auto created = kube_.create_event(event); created)
      target.conflict_recorded = other;
    else
      spdlog::warn("event failed namespace={} autoscaler={} error=\"{}\"", autoscaler.namespace_,
                   autoscaler.name, created.error().message);
  }
  write_status(target, autoscaler);
  return true;
}

void Controller::report_autoscaled(Target& target, const Autoscaler& autoscaler,
                                   const ReconcileOutcome& outcome, ScaleClient& scale_client) {
  AutoscalerStatus& status = target.status;
  const std::string now = now_text();
  status.set_condition("ScalingActive", "True", "ValidSuggestion",
                       autoscaler.policy == AutoscalerPolicy::kHpa
                           ? fmt::format("the HPA's algorithm is deciding (target CPU utilisation {}%)",
                                         autoscaler.target_cpu_utilization)
                           : fmt::format("the learned policy {} is deciding", autoscaler.learned_policy),
                       now);
  if (outcome.held_by_fault()) {
    ++status.consecutive_failures;
    const bool kube_failed = outcome.fault_cause.starts_with("kube_");
    if (kube_failed)
      status.set_condition("AbleToScale", "False", outcome.decision ? "FailedUpdateScale" : "FailedGetScale",
                           prom::redact_credentials(outcome.fault_message), now);
    else
      status.set_condition("ScalingActive", "False", "FailedGetSuggestion",
                           prom::redact_credentials(outcome.fault_message), now);
    AutoscalerDecision decision{now, outcome.action, "failed", outcome.fault_cause,
                                prom::redact_credentials(outcome.fault_message)};
    if (autoscaler.fallback && status.consecutive_failures >= autoscaler.fallback->failure_threshold) {
      decision.result = "fallback";
      decision.reason = "FallbackHold";
      decision.message = fmt::format("{} intervals in a row could not decide: holding the replicas",
                                     status.consecutive_failures);
      if (const auto replicas = autoscaler.fallback->replicas) {
        decision.reason = "FallbackReplicas";
        decision.message =
            fmt::format("{} intervals in a row could not decide: scaling to the fallback's {} replicas",
                        status.consecutive_failures, *replicas);
        auto scale = scale_client.get_scale(target.namespace_, target.name);
        if (scale && scale->replicas != *replicas && !settings_for(config_.defaults, autoscaler).dry_run) {
          if (auto patched = scale_client.patch_scale(target.namespace_, target.name, *replicas,
                                                      scale->resource_version)) {
            status.last_scale_time = now;
            status.current_replicas = *replicas;
            target.history.belong_to(scale->uid);
            target.history.record(scale->replicas, *replicas, clock_.now());
          } else {
            decision.message += fmt::format(" (failed: {})", patched.error().message);
          }
        }
        status.desired_replicas = *replicas;
      }
      spdlog::warn("autoscaler fallback namespace={} deployment={} autoscaler={} reason={}",
                   target.namespace_, target.name, autoscaler.name, decision.reason);
    }
    status.last_decision = std::move(decision);
  } else {
    const Decision& decision = *outcome.decision;
    status.consecutive_failures = 0;
    status.current_replicas =
        decision.changes() && outcome.result == "scaled" ? decision.desired : decision.current;
    status.desired_replicas = decision.desired;
    if (outcome.result == "scaled") status.last_scale_time = now;
    status.set_condition(
        "AbleToScale", "True", outcome.result == "scaled" ? "SucceededRescale" : "ReadyForNewScale",
        outcome.result == "scaled" ? fmt::format("the controller set the replicas to {}", decision.desired)
                                   : "the controller is ready to scale the target",
        now);
    if (decision.reason == DecisionReason::kScaleUpLimit ||
        decision.reason == DecisionReason::kScaleDownLimit) {
      const bool up = decision.reason == DecisionReason::kScaleUpLimit;
      status.set_condition(
          "ScalingLimited", "True", up ? "ScaleUpLimit" : "ScaleDownLimit",
          fmt::format("the desired replica count is {} than a {} rate limit of spec.behavior",
                      up ? "increasing faster" : "decreasing faster", up ? "scale-up" : "scale-down"),
          now);
    } else if (decision.reason == DecisionReason::kAtBound ||
               decision.reason == DecisionReason::kIntoBounds) {
      const bool at_max = decision.desired >= autoscaler.bounds.max;
      status.set_condition("ScalingLimited", "True", at_max ? "TooManyReplicas" : "TooFewReplicas",
                           fmt::format("the desired replica count is {} than the {} replica count",
                                       at_max ? "more" : "less", at_max ? "maximum" : "minimum"),
                           now);
    } else {
      status.set_condition("ScalingLimited", "False", "DesiredWithinRange",
                           "the desired count is within the acceptable range", now);
    }
    status.last_decision = AutoscalerDecision{
        now, outcome.action, outcome.result, std::string(decision_reason_name(decision.reason)),
        fmt::format("{} -> {} replicas", decision.current, decision.desired)};
  }
  write_status(target, autoscaler);
}

void Controller::write_status(Target& target, const Autoscaler& autoscaler) {
  target.status.observed_generation = autoscaler.generation;
  if (auto written = autoscalers_->write_status(autoscaler.namespace_, autoscaler.name,
                                                target.status.to_json(), config_.kubernetes.conflict_retries);
      !written)
    spdlog::warn("autoscaler status failed namespace={} name={} error=\"{}\"", autoscaler.namespace_,
                 autoscaler.name, written.error().message);
}

}  // namespace maestro::controller
