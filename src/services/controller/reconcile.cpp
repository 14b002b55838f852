#include "services/controller/reconcile.hpp"

#include <fmt/format.h>

namespace maestro::controller {

namespace {

constexpr const char* kEventReason = "SuccessfulRescale";  // the HPA's reason for the same event

std::string kube_cause(const kube::KubeError& error) {
  return fmt::format("kube_{}", kube::kube_error_kind_name(error.kind));
}

ReconcileOutcome held(ReconcileOutcome outcome, std::string cause, std::string message) {
  outcome.fault_cause = std::move(cause);
  outcome.fault_message = std::move(message);
  return outcome;
}

}  // namespace

ReconcileOutcome reconcile_deployment(const ReconcileRequest& request, ScalingHistory& history,
                                      ScaleClient& kube, SuggestionSource& suggestions) {
  ReconcileOutcome outcome;
  auto suggestion = suggestions.ask(request.namespace_, request.name);
  if (!suggestion) return held(outcome, suggestion.error().cause, suggestion.error().message);
  outcome.action = suggestion->action_name;
  auto scale = kube.get_scale(request.namespace_, request.name);
  if (!scale) return held(outcome, kube_cause(scale.error()), scale.error().message);
  // A suggestion decided for other replicas than the deployment has now (someone scaled meanwhile, or the
  // suggestion server served an older step) says nothing about these: never apply it to them.
  if (scale->replicas != suggestion->replicas)
    return held(
        outcome, "suggestion_replicas_changed",
        fmt::format("the suggestion ({}) was decided for {} replicas but the deployment has {}; deciding "
                    "again next interval",
                    suggestion->action_name, suggestion->replicas, scale->replicas));

  const DeploymentSettings& settings = request.settings;
  history.belong_to(scale->uid);
  history.prune(request.now, history_window(settings));
  const int wanted =
      wanted_replicas(suggestion->action_set, suggestion->replica_change, scale->replicas, settings.step);
  const Decision decision = decide(scale->replicas, wanted, settings, history, request.now);
  outcome.decision = decision;
  if (!decision.changes()) {
    outcome.result = "held";
    return outcome;
  }
  if (settings.dry_run) {
    outcome.result = "dry_run";
    return outcome;
  }

  // Merge-patch with the resourceVersion read; on 409, re-read: if only the version moved (a status update),
  // patch again with the new one; if the replicas moved, someone else scaled and this decision is stale.
  std::string resource_version = scale->resource_version;
  for (int attempt = 0;; ++attempt) {
    auto patched = kube.patch_scale(request.namespace_, request.name, decision.desired, resource_version);
    if (patched) break;
    if (patched.error().kind != kube::KubeErrorKind::kConflict || attempt >= request.conflict_retries)
      return held(outcome, kube_cause(patched.error()), patched.error().message);
    auto reread = kube.get_scale(request.namespace_, request.name);
    if (!reread) return held(outcome, kube_cause(reread.error()), reread.error().message);
    if (reread->uid != scale->uid)
      return held(outcome, "deployment_recreated",
                  fmt::format("the deployment was deleted and created again (uid {} is now {}); deciding "
                              "again next interval",
                              scale->uid, reread->uid));
    if (reread->replicas != decision.current)
      return held(outcome, "kube_conflict",
                  fmt::format("replicas changed from {} to {} by someone else; deciding again next interval",
                              decision.current, reread->replicas));
    resource_version = reread->resource_version;
  }
  history.record(decision.current, decision.desired, request.now);
  outcome.result = "scaled";

  kube::DeploymentEvent event;
  event.namespace_ = request.namespace_;
  event.deployment = request.name;
  event.deployment_uid = scale->uid;
  event.reason = kEventReason;
  event.message = fmt::format("New size: {}; reason: maestro policy action {} (was {})", decision.desired,
                              outcome.action, decision.current);
  if (auto created = kube.create_event(event); !created) {
    // The scale happened; only its record is missing.
    outcome.event_cause = fmt::format("event_{}", kube::kube_error_kind_name(created.error().kind));
    outcome.event_message = created.error().message;
  }
  return outcome;
}

}  // namespace maestro::controller
