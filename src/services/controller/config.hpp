// The controller's configuration file (YAML): where the suggestion server and the Kubernetes API are, which
// deployments to manage — listed, found by the annotation maestro.io/autoscale: "true", and/or named by
// MaestroAutoscaler resources — and each
// one's interval, bounds, step, cooldown and dry-run. Unknown keys and bad values are refused with a message
// naming them, so that a typo never silently runs with defaults.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "base/error.hpp"
#include "net/http_client.hpp"
#include "services/controller/decision.hpp"

namespace maestro::controller {

inline constexpr const char* kAutoscaleAnnotation = "maestro.io/autoscale";
// Per-deployment overrides a discovered deployment may carry.
inline constexpr const char* kMinReplicasAnnotation = "maestro.io/min-replicas";
inline constexpr const char* kMaxReplicasAnnotation = "maestro.io/max-replicas";
// "learned" (the default) or "hpa": who decides (DecisionSource); the HPA's target CPU utilisation, percent.
inline constexpr const char* kPolicyAnnotation = "maestro.io/policy";
inline constexpr const char* kHpaTargetAnnotation = "maestro.io/hpa-target-utilization";

struct KubernetesSettings {
  bool in_cluster = false;
  std::filesystem::path kubeconfig;
  std::string context;
  std::string server;  // with token or token_file: a plain server (the local test double)
  std::string token;
  std::filesystem::path token_file;
  std::chrono::milliseconds timeout{5000};
  int conflict_retries = 3;  // re-reads and re-patches after a 409 before giving up for this interval
};

struct TargetConfig {
  std::string namespace_ = "default";
  std::string name;
  DeploymentSettings settings;
};

struct DiscoveryConfig {
  bool enabled = false;
  std::string namespace_;  // "" all namespaces
  std::chrono::seconds refresh{60};
};

// MaestroAutoscaler resources (autoscaler.hpp): listed every `refresh`, each acting on its target.
struct AutoscalersConfig {
  bool enabled = false;
  std::string namespace_;            // "" all namespaces
  std::chrono::seconds refresh{10};  // a full list (resync), watching or not
  bool watch = true;                 // and a watch, to act on a change at once (autoscaler_watch.hpp)
};

// Where the HPA source (hpa_source.hpp) reads per-pod CPU: required when a deployment's policy is hpa.
struct PrometheusSettings {
  std::string url;  // base URL, e.g. http://127.0.0.1:9090; "" none
  std::chrono::milliseconds timeout{5000};
  std::chrono::seconds rate_window{60};  // of the per-pod CPU rate (the metrics API's sample window)
};

struct ControllerConfig {
  std::string suggestion_server;  // base URL, e.g. http://127.0.0.1:8081
  std::chrono::milliseconds suggestion_timeout{2000};
  std::filesystem::path suggestion_token_file;  // a bearer token the suggestion server asks for; "" none
  PrometheusSettings prometheus;
  std::string listen = "127.0.0.1:9102";  // address of /metrics, /healthz, /readyz (in a pod: 0.0.0.0)
  int workers = 8;                        // deployments reconciled in parallel
  KubernetesSettings kubernetes;
  DeploymentSettings defaults;
  std::vector<TargetConfig> deployments;
  DiscoveryConfig discovery;
  AutoscalersConfig autoscalers;
};

Result<ControllerConfig> parse_controller_config(const std::string& yaml);
Result<ControllerConfig> load_controller_config(const std::filesystem::path& path);

// A deployment whose policy is hpa needs config.prometheus (checked on parsing; the CLI checks again after
// its --policy flag).
Result<void> require_prometheus_for_hpa(const ControllerConfig& config);

// "learned" or "hpa".
Result<DecisionSource> parse_decision_source(std::string_view name);
std::string_view decision_source_name(DecisionSource source);

// Settings of a discovered deployment: the defaults, with min/max, policy and HPA target from its annotations
// if it has them.
Result<DeploymentSettings> settings_from_annotations(const DeploymentSettings& defaults,
                                                     const std::map<std::string, std::string>& annotations);

// HTTP client options for the configured Kubernetes API (in-cluster, kubeconfig, or server and token), with
// the configured timeout; a token file is re-read through `clock`, which must outlive the client.
Result<net::HttpClientOptions> kubernetes_http_options(const KubernetesSettings& settings,
                                                       const base::Clock& clock);

}  // namespace maestro::controller
