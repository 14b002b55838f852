// The suggestion server (`maestro serve suggest`): GET /suggest?deployment=NAME&namespace=NS (and its alias
// /suggestion) reads the deployment's replicas, ready replicas and annotations from Kubernetes, asks the
// model server what its policy needs (GET /policy), takes the deployment's step — observation from the
// StateBuilder, pods starting, features with the history the feature set needs (deployment_state.hpp) — asks
// the model (POST /predict, with the complete feature vector when the policy needs it), and answers the
// action with what it means (replica change, the replicas it was decided for, desired replicas) and the
// observation it used (DESIGN §2, docs/api.md). When Kubernetes, Prometheus or the model fails, or data is
// missing, it answers 503 with the reason and never an action. Requests for one deployment are served one at
// a time.
//
// Annotations read: latencySoftConstraint and latencyHardConstraint (ms, as in the original project) and the
// per-deployment query overrides maestro.io/query-cpu-usage, maestro.io/query-memory-usage,
// maestro.io/query-latency, maestro.io/query-rps and maestro.io/pods (see prom/state_builder.hpp).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/observation.hpp"
#include "core/reward.hpp"
#include "net/http_server.hpp"
#include "prom/state_builder.hpp"
#include "services/suggestion_server/deployment_state.hpp"
#include "services/suggestion_server/keyed_mutex.hpp"
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
// "model" (503).
struct SuggestionError : Error {
  std::string cause;
};

// The deployment's query overrides and latency constraints from its annotations.
Result<core::LatencyConstraints> constraints_from_annotations(
    const std::map<std::string, std::string>& annotations);
std::optional<prom::QueryTemplates> templates_from_annotations(
    const std::map<std::string, std::string>& annotations);

std::string suggestion_json(const Suggestion& suggestion);

struct SuggestionServerOptions {
  net::HttpServerOptions http{.io_threads = 1, .handler_threads = 16, .max_body_bytes = 64 * 1024};
  HistoryOptions history;
};

class SuggestionServer {
 public:
  // The sources and the clock (which times steps) must outlive the server.
  SuggestionServer(DeploymentSource& kubernetes, prom::StateBuilder& state_builder, ActionModel& model,
                   const core::Clock& clock, SuggestionServerOptions options = {});
  ~SuggestionServer();

  // One decision, as GET /suggest makes it (serialised per deployment).
  std::expected<Suggestion, SuggestionError> suggest(const std::string& namespace_name,
                                                     const std::string& deployment);

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
  std::expected<Suggestion, SuggestionError> decide(const std::string& namespace_name,
                                                    const std::string& deployment);
  // What the model's policy needs (asked every decision), or the last it said if it cannot say now.
  Result<PolicyNeeds> policy_needs();

  DeploymentSource& kubernetes_;
  prom::StateBuilder& state_builder_;
  ActionModel& model_;
  const core::Clock& clock_;
  KeyedMutex deployments_;
  DeploymentStates states_;
  std::mutex needs_mutex_;
  std::optional<PolicyNeeds> last_needs_;
  net::HttpServer http_;
  std::unique_ptr<Metrics> metrics_;
};

}  // namespace maestro::suggestion_server
