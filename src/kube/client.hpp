// The Kubernetes REST client: the few calls MAESTRO makes, on their real paths and JSON shapes —
// apps/v1 Deployments (get, list), their autoscaling/v1 `scale` subresource (get, merge-patch with the
// resourceVersion read) and core/v1 Events (create). Errors come back as KubeError kinds, never exceptions.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kube/error.hpp"
#include "net/http_client.hpp"

namespace maestro::kube {

struct Deployment {
  std::string name;
  std::string namespace_;
  std::string uid;
  std::string resource_version;
  int replicas = 1;  // spec.replicas (the API defaults it to 1)
  int ready_replicas = 0;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::optional<std::int64_t> cpu_request_m;  // one pod of spec.template (kube::pod_cpu_request_m)
};

struct Scale {
  std::string name;
  std::string namespace_;
  std::string uid;  // the deployment's
  std::string resource_version;
  int replicas = 0;         // spec.replicas: desired
  int status_replicas = 0;  // status.replicas: observed
  std::string selector;     // status.selector
};

// A core/v1 Event about a Deployment (or, with involved_kind and involved_api_version, another object).
struct DeploymentEvent {
  std::string namespace_;
  std::string deployment;
  std::string deployment_uid;  // may be empty
  std::string involved_kind = "Deployment";
  std::string involved_api_version = "apps/v1";
  std::string reason;  // "SuccessfulRescale"
  std::string message;
  std::string type = "Normal";
  std::string component = "maestro-controller";
  std::chrono::system_clock::time_point at = std::chrono::system_clock::now();
};

// RFC 3339 in UTC with second precision, as Kubernetes' metav1.Time: "2026-11-27T18:20:45Z".
std::string rfc3339(std::chrono::system_clock::time_point at);

class KubeClient {
 public:
  explicit KubeClient(net::HttpClientOptions options);

  KubeResult<Deployment> get_deployment(const std::string& namespace_, const std::string& name);

  // Deployments whose annotation `key` equals `value`, in `namespace_` or ("") all namespaces; pages through
  // the list with limit/continue. Annotations cannot be selected server-side, so the filter is here.
  KubeResult<std::vector<Deployment>> list_deployments_annotated(const std::string& namespace_,
                                                                 const std::string& key,
                                                                 const std::string& value);

  KubeResult<Scale> get_scale(const std::string& namespace_, const std::string& name);

  // Sets spec.replicas with a JSON merge patch that carries `resource_version`, so that a write based on a
  // stale read fails with kConflict instead of overwriting someone else's change.
  KubeResult<Scale> patch_scale(const std::string& namespace_, const std::string& name, int replicas,
                                const std::string& resource_version);

  KubeResult<void> create_event(const DeploymentEvent& event);

  net::HttpClient& http() { return http_; }

 private:
  net::HttpClient http_;
};

// Parse a response of the API (exposed for tests): a Deployment, a Scale, a Status' error.
KubeResult<Deployment> parse_deployment(const std::string& json);
KubeResult<Scale> parse_scale(const std::string& json);
KubeError error_from_response(const net::Response& response, const std::string& what);
// The error of a request that got no answer: a timeout, an unreadable token, or no connection.
KubeError transport_error(const net::HttpError& error, const std::string& what);

}  // namespace maestro::kube
