// The suggestion server (`maestro serve suggest`): GET /suggest?deployment=NAME&namespace=NS (and its alias
// /suggestion) reads the deployment's replicas, ready replicas and annotations from Kubernetes (with
// &autoscaler=NAME, the target of that MaestroAutoscaler — any kind with a scale subresource — and the query
// overrides of its spec.metrics.queries, read from the resource: a caller names a resource, never a query),
// asks the model server what its policy needs (GET /policy), takes the deployment's step — observation from
// the StateBuilder, pods starting, features with the history the feature set needs (deployment_state.hpp) —
// asks the model (POST /predict, with the complete feature vector when the policy needs it), and answers the
// action with what it means (replica change, the replicas it was decided for, desired replicas) and the
// observation it used (DESIGN §2, docs/api.md). When Kubernetes, Prometheus or the model fails, or data is
// missing, it answers 503 with the reason and never an action.
//
// Load is bounded: concurrent requests for one deployment share one decision (coalescer.hpp); each request
// has a deadline — the server's budget, shortened by the caller's X-Request-Timeout-Ms — after which it is
// answered 503 (cause "deadline") and a decision nobody waits for any more stops before its next query; and
// at most `max_pending` requests are in the server at once, more being answered 503 (cause "overloaded")
// with Retry-After at once, so that one slow deployment never holds up another.
//
// Annotations read: latencySoftConstraint and latencyHardConstraint (ms, as in the original project) and the
// per-deployment query overrides maestro.io/query-cpu-usage, maestro.io/query-memory-usage,
// maestro.io/query-latency, maestro.io/query-rps, maestro.io/query-pods-reporting and maestro.io/pods (see
// prom/state_builder.hpp).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/clock.hpp"
#include "core/observation.hpp"
#include "core/reward.hpp"
#include "net/http_server.hpp"
#include "prom/state_builder.hpp"
#include "services/suggestion_server/coalescer.hpp"
#include "services/suggestion_server/deployment_state.hpp"
#include "services/suggestion_server/sources.hpp"

namespace maestro::suggestion_server {

inline constexpr const char* kSoftConstraintAnnotation = "latencySoftConstraint";
inline constexpr const char* kHardConstraintAnnotation = "latencyHardConstraint";

struct Suggestion {
  std::string namespace_name;
  std::string deployment;
  core::Observation observation;
  core::FeatureSet feature_set = core::FeatureSet::kOriginal;
  DeploymentStep step;
  ModelAnswer answer;
  core::LatencyConstraints constraints;
  double took_ms = 0;
};

// Why there is no suggestion: "request" (bad parameters: 400), or "kubernetes", "annotation", "prometheus",
// "model", "deadline", "overloaded" (503).
struct SuggestionError : Error {
  std::string cause;
};

// The deployment's query overrides and latency constraints from its annotations.
Result<core::LatencyConstraints> constraints_from_annotations(
    const std::map<std::string, std::string>& annotations);
std::optional<prom::QueryTemplates> templates_from_annotations(
    const std::map<std::string, std::string>& annotations);

std::string suggestion_json(const Suggestion& suggestion);

inline constexpr const char* kRequestTimeoutHeader = "X-Request-Timeout-Ms";

struct SuggestionServerOptions {
  // handler_threads is set to max_pending plus a few, so that a request over the limit is refused at once.
  net::HttpServerOptions http{.io_threads = 1, .max_body_bytes = 64 * 1024};
  HistoryOptions history;
  std::chrono::milliseconds request_budget{
      10'000};           // the longest a request is worked on; callers may ask less
  int max_pending = 64;  // requests waiting for or making a decision at once
};

class SuggestionServer {
 public:
  // The sources and the clock (which times steps) must outlive the server.
  SuggestionServer(DeploymentSource& kubernetes, prom::StateBuilder& state_builder, ActionModel& model,
                   const base::Clock& clock, SuggestionServerOptions options = {});
  ~SuggestionServer();

  // One decision, as GET /suggest makes it: shared with the requests for the same deployment in flight, and
  // given up (cause "deadline") once `deadline` has passed.
  // `autoscaler`: the MaestroAutoscaler naming the target ("" none).
  std::expected<Suggestion, SuggestionError> suggest(const std::string& namespace_name,
                                                     const std::string& deployment, Deadline deadline,
                                                     const std::string& autoscaler = "");

  Result<std::uint16_t> listen(std::string_view address) { return http_.listen(address); }
  void start() { http_.start(); }
  void run();
  void stop() { http_.stop(); }
  net::HttpServer& http() { return http_; }
  // Deployments whose history is kept now.
  std::size_t deployments_remembered() const { return states_.size(); }

 private:
  struct Metrics;
  void handle(const net::HttpRequest& request, net::HttpResponse& response);
  using Decision = std::expected<Suggestion, SuggestionError>;
  Decision decide(const std::string& namespace_name, const std::string& deployment,
                  const std::string& autoscaler, const Coalescer<Decision>::Flight& flight);
  // What the model's policy needs (asked every decision), or the last it said if it cannot say now.
  Result<PolicyNeeds> policy_needs();

  DeploymentSource& kubernetes_;
  prom::StateBuilder& state_builder_;
  ActionModel& model_;
  const base::Clock& clock_;
  SuggestionServerOptions options_;
  Coalescer<Decision> decisions_;
  std::atomic<int> pending_{0};
  DeploymentStates states_;
  std::mutex needs_mutex_;
  std::optional<PolicyNeeds> last_needs_;
  net::HttpServer http_;
  std::unique_ptr<Metrics> metrics_;
};

}  // namespace maestro::suggestion_server
