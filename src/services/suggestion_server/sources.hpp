// What the suggestion server asks besides Prometheus, as small interfaces so that it can be tested against
// fakes and wired to the real clients: the Kubernetes API (a deployment's replicas, ready replicas and
// annotations, or a MaestroAutoscaler's target and query overrides) and the model server (what its policy
// needs, and the action for an observation).
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "core/action_set.hpp"
#include "core/features.hpp"
#include "core/observation.hpp"
#include "prom/state_builder.hpp"

namespace maestro::suggestion_server {

struct DeploymentInfo {
  int replicas = 0;        // spec.replicas
  int ready_replicas = 0;  // status.readyReplicas: replicas − ready are pods still starting
  std::map<std::string, std::string> annotations;
  // A MaestroAutoscaler's spec.metrics.queries (none: the annotations' or the defaults), and the regex of the
  // pods of a target that is not a Deployment (none: the annotation maestro.io/pods or the default).
  std::optional<prom::QueryTemplates> templates = {};
  std::optional<std::string> pods = {};
  // What one pod requests of CPU, cores (spec.template's containers; a non-Deployment target's first pod);
  // none if some container requests none. A policy of utilisation targets needs it.
  std::optional<double> cpu_request_cores = {};
};

class DeploymentSource {
 public:
  virtual ~DeploymentSource() = default;
  virtual Result<DeploymentInfo> get(const std::string& namespace_name, const std::string& name) = 0;
  // `target` as MaestroAutoscaler `autoscaler` in `namespace_name` names it — a Deployment, or any workload
  // with a scale subresource (replicas from its scale, its pods selected by the scale's status.selector) —
  // with the resource's query overrides. Fails if the resource does not target `target`. A source that
  // knows no MaestroAutoscalers fails.
  virtual Result<DeploymentInfo> get_autoscaled(const std::string& namespace_name, const std::string& target,
                                                const std::string& autoscaler) {
    (void)target;
    return fail("MaestroAutoscaler {}/{}: this source does not read MaestroAutoscalers", namespace_name,
                autoscaler);
  }
};

// What the model server's policy needs in a request (GET /policy).
struct PolicyNeeds {
  std::string model_version;
  core::FeatureSpec features;      // the feature set and memory limit a core::FeatureBuilder builds with
  bool needs_features = false;     // the request must carry the complete feature vector (history)
  bool needs_cpu_request = false;  // the request must carry one pod's CPU request (utilisation targets)
};

// The model's answer to one request (POST /predict).
struct ModelAnswer {
  int action = 0;  // index into the policy's action set
  std::string action_name;
  std::string action_set;
  core::ReplicaChange replica_change;
  int replicas = 0;                   // the replicas it was decided for
  int desired_replicas = 0;           // core::replicas_after(replica_change, replicas): before any bounds
  std::vector<double> probabilities;  // by action index; empty if the model sent none
  std::string model_version;
};

class ActionModel {
 public:
  virtual ~ActionModel() = default;
  virtual Result<PolicyNeeds> needs() = 0;
  // The five fields, `features` unless empty, and one pod's CPU request if given.
  virtual Result<ModelAnswer> predict(const core::Observation& observation, std::span<const double> features,
                                      std::optional<double> cpu_request_cores) = 0;
};

}  // namespace maestro::suggestion_server
