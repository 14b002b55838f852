// The StateBuilder: the one place that turns a deployment into a core::Observation, for serving and for
// live training alike, so that the model is served exactly the features it was trained on (DESIGN §1).
// Each metric is a PromQL template; the defaults read cAdvisor's container metrics and the application's
// http_requests_total / http_request_duration_seconds, and a deployment may override any of them.
//
// Template placeholders: $namespace, $deployment, $pods (a regex matching the deployment's pod names) and
// $window (the rate window, e.g. 1m). PromQL never uses '$', so they cannot clash with label matchers.
//
// The four metrics sum over whichever pods reported within the window, so before deciding the builder asks
// which pods report, and how fresh their newest raw samples are: timestamp() of a plain selector is the
// timestamp of the newest sample within the lookback (not the evaluation time an instant query stamps every
// answer with), and a target that stops being scraped gets staleness markers and leaves the selector at once,
// while rate() and last_over_time() go on answering from its old samples for a whole window. Fewer pods
// reporting fresh samples than the deployment has ready replicas is no observation: half the pods' requests
// would read as half the load, and the policy would scale down.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/error.hpp"
#include "core/observation.hpp"
#include "prom/query_client.hpp"

namespace maestro::prom {

inline constexpr const char* kNoPodsCheck = "none";

struct QueryTemplates {
  std::string cpu_usage;     // percent of one core, summed over pods
  std::string memory_usage;  // working-set bytes, summed over pods
  std::string latency;       // p95, milliseconds
  std::string rps;           // requests per second
  // One series per pod that reports every metric source, valued at the age in seconds (at Prometheus's
  // clock) of the newest raw sample of its stalest source. kNoPodsCheck: the deployment's pods cannot be told
  // apart in its metrics (one process standing for every replica, in tests), so nothing is checked.
  std::string pods_reporting = {};
};

// CPU: rate(container_cpu_usage_seconds_total) × 100 summed, without the pod-level (container="") and pause
// (container="POD") series that would count it twice; memory: the last working set within the window (so a
// sample older than the window is no data), same filters; p95 from the request-duration histogram, in ms;
// rps from the request counter; pods reporting both cAdvisor's CPU and the application's request counter.
QueryTemplates default_templates();

// Kubernetes names pods NAME-HASH-SUFFIX, with the hash and suffix from an alphabet without vowels (so that
// no word in another deployment's name can pass for one): this matches exactly those of `deployment`.
std::string default_pod_regex(std::string_view deployment);

// A regex matching exactly the pods `names` (DNS-1123 names, their dots escaped), for a workload whose pods
// are found by its selector rather than by the Deployment's naming (a StatefulSet's NAME-0, NAME-1, …).
std::string pod_names_regex(const std::vector<std::string>& names);

// True for a DNS-1123 subdomain (what Kubernetes accepts as a deployment or namespace name), which is also
// what makes the name safe to put inside a PromQL string.
bool is_kubernetes_name(std::string_view name);

// A PromQL duration such as 30s, 1m, 1m30s, 2h.
bool is_promql_duration(std::string_view window);

struct DeploymentRef {
  std::string namespace_name;
  std::string name;
  int replicas = 0;                         // from the Kubernetes API: Prometheus does not know it
  std::optional<QueryTemplates> templates;  // the deployment's own queries (an empty field keeps the default)
  std::optional<std::string> pods;          // the deployment's own pod-name regex
  // status.readyReplicas: at least this many pods must report fresh samples (none given: at least one).
  std::optional<int> ready_replicas = {};
};

// Substitutes the placeholders; an unknown $placeholder is an error naming it.
Result<std::string> render_template(std::string_view query_template, const DeploymentRef& deployment,
                                    std::string_view window);

// The longest query template accepted from a deployment's annotations or a MaestroAutoscaler.
inline constexpr std::size_t kMaxTemplateBytes = 4096;

// The templates of a MaestroAutoscaler's spec.metrics.queries: {cpuUsage, memoryUsage, latency, rps,
// podsReporting}, each optional (absent: the default), each a string of at most kMaxTemplateBytes whose
// placeholders are known; an error names the field under `where` ("spec.metrics.queries.rps: ...").
Result<QueryTemplates> templates_from_json(const nlohmann::json& queries, std::string_view where);

struct StateBuilderOptions {
  std::string window = "1m";
  QueryTemplates templates = default_templates();
  std::chrono::seconds max_sample_age{120};  // a pod whose newest sample is older does not report
};

// The observation and the exact queries that produced it (for logs and for the suggestion's answer).
struct BuiltState {
  core::Observation observation;
  std::array<std::string, 4> queries;  // cpu_usage, memory_usage, latency, rps
  int pods_reporting = 0;              // pods whose newest samples are fresh (0 if not checked)
};

class StateBuilder {
 public:
  // `source` must outlive the builder.
  StateBuilder(MetricsSource& source, StateBuilderOptions options = {});

  static Result<StateBuilderOptions> validate(StateBuilderOptions options);

  // Asks which pods report (refusing fewer than the ready replicas, or stale samples), then queries the
  // four metrics of `deployment` at once (the source must take concurrent calls). Any query that fails or has
  // no data fails the whole observation, with the metric and the reason in the message: there is no partial
  // observation. `abandoned` returning true before a round of queries stops it (nobody waits any more).
  Result<BuiltState> build(const DeploymentRef& deployment, const std::function<bool()>& abandoned = {});

  const StateBuilderOptions& options() const { return options_; }

 private:
  // Pods whose newest samples are fresh, or why there are too few.
  Result<int> pods_reporting(const DeploymentRef& deployment, const std::string& query_template);

  MetricsSource& source_;
  StateBuilderOptions options_;
};

}  // namespace maestro::prom
