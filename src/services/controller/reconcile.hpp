// One deployment's reconcile as a step of its own, against two small interfaces (DESIGN §3): the Kubernetes
// API's scale subresource and events (ScaleClient) and the suggestion server (SuggestionSource). It neither
// logs nor counts: its outcome says what happened and why, and the controller reports it. So every fault —
// the suggestion server down or answering garbage, Kubernetes refusing, conflicting or failing — is tested
// with in-memory fakes, without HTTP.
//
// The step: ask for a suggestion; read the scale; hold if the suggestion was decided for other replicas than
// the deployment has; decide (decision.hpp); merge-patch with the resourceVersion read, re-reading and
// retrying up to `conflict_retries` times on 409 as long as only the version moved (not the replicas, not the
// uid: a deployment deleted and created again meanwhile is another one); record the change and an Event. Any
// failure holds the current replicas: nothing is written. The scaling history belongs to the deployment's
// uid: one created again under the same name starts without the old one's cooldown.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "kube/client.hpp"
#include "kube/custom_resources.hpp"
#include "services/controller/decision.hpp"
#include "services/controller/suggestion_client.hpp"

namespace maestro::controller {

// What the controller needs of the Kubernetes API.
class ScaleClient {
 public:
  virtual ~ScaleClient() = default;
  virtual kube::KubeResult<kube::Scale> get_scale(const std::string& namespace_, const std::string& name) = 0;
  virtual kube::KubeResult<kube::Scale> patch_scale(const std::string& namespace_, const std::string& name,
                                                    int replicas, const std::string& resource_version) = 0;
  virtual kube::KubeResult<void> create_event(const kube::DeploymentEvent& event) = 0;
  // Deployments in `namespace_` ("" all) whose annotation `key` is `value` (discovery).
  virtual kube::KubeResult<std::vector<kube::Deployment>> list_deployments_annotated(
      const std::string& namespace_, const std::string& key, const std::string& value) = 0;
};

// The ScaleClient of a real API server.
class KubeScaleClient final : public ScaleClient {
 public:
  // `kube` must outlive this client.
  explicit KubeScaleClient(kube::KubeClient& kube) : kube_(kube) {}
  kube::KubeResult<kube::Scale> get_scale(const std::string& namespace_, const std::string& name) override {
    return kube_.get_scale(namespace_, name);
  }
  kube::KubeResult<kube::Scale> patch_scale(const std::string& namespace_, const std::string& name,
                                            int replicas, const std::string& resource_version) override {
    return kube_.patch_scale(namespace_, name, replicas, resource_version);
  }
  kube::KubeResult<void> create_event(const kube::DeploymentEvent& event) override {
    return kube_.create_event(event);
  }
  kube::KubeResult<std::vector<kube::Deployment>> list_deployments_annotated(
      const std::string& namespace_, const std::string& key, const std::string& value) override {
    return kube_.list_deployments_annotated(namespace_, key, value);
  }

 private:
  kube::KubeClient& kube_;
};

// The ScaleClient of a MaestroAutoscaler's target that is not a Deployment (a StatefulSet, a ReplicaSet, a
// custom resource with a scale subresource): its scale through the resource `type`, its Events naming its
// kind; discovery still lists Deployments.
class WorkloadScaleClient final : public ScaleClient {
 public:
  // `kube` must outlive this client; `kind` and `api_version` are the target's ("StatefulSet", "apps/v1").
  WorkloadScaleClient(kube::KubeClient& kube, kube::ResourceType type, std::string kind,
                      std::string api_version)
      : kube_(kube), type_(std::move(type)), kind_(std::move(kind)), api_version_(std::move(api_version)) {}
  kube::KubeResult<kube::Scale> get_scale(const std::string& namespace_, const std::string& name) override {
    return kube::get_workload_scale(kube_, type_, namespace_, name);
  }
  kube::KubeResult<kube::Scale> patch_scale(const std::string& namespace_, const std::string& name,
                                            int replicas, const std::string& resource_version) override {
    return kube::patch_workload_scale(kube_, type_, namespace_, name, replicas, resource_version);
  }
  kube::KubeResult<void> create_event(const kube::DeploymentEvent& event) override {
    kube::DeploymentEvent about_target = event;
    if (about_target.involved_kind == "Deployment") {
      about_target.involved_kind = kind_;
      about_target.involved_api_version = api_version_;
    }
    return kube_.create_event(about_target);
  }
  kube::KubeResult<std::vector<kube::Deployment>> list_deployments_annotated(
      const std::string& namespace_, const std::string& key, const std::string& value) override {
    return kube_.list_deployments_annotated(namespace_, key, value);
  }
  const kube::ResourceType& type() const { return type_; }

 private:
  kube::KubeClient& kube_;
  kube::ResourceType type_;
  std::string kind_;
  std::string api_version_;
};

struct ReconcileRequest {
  std::string namespace_;
  std::string name;
  DeploymentSettings settings;
  base::Clock::TimePoint now{};
  int conflict_retries = 3;
};

struct ReconcileOutcome {
  std::string action;                // the suggestion's action name; "" if there was no suggestion
  std::optional<Decision> decision;  // none: held before a decision could be made
  std::string result;                // "scaled", "held", "dry_run"; "" when a fault held it
  std::string fault_cause;           // why it held because something failed ("" if nothing failed)
  std::string fault_message;
  std::string event_cause;  // the scale was made but its Event could not be recorded ("" if it was)
  std::string event_message;

  bool held_by_fault() const { return !fault_cause.empty(); }
};

// One reconcile of `request`'s deployment; `history` (its recent changes, pruned to the cooldown here) is
// updated when it scales.
ReconcileOutcome reconcile_deployment(const ReconcileRequest& request, ScalingHistory& history,
                                      ScaleClient& kube, SuggestionSource& suggestions);

}  // namespace maestro::controller
