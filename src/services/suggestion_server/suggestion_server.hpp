// The suggestion server (`maestro serve suggest`): GET /suggest?deployment=NAME&namespace=NS (and its alias
// /suggestion) reads the deployment's replicas and annotations from Kubernetes, builds its observation with
// the StateBuilder, asks the model, and answers the action with the observation it used (DESIGN §2). When
// Kubernetes, Prometheus or the model fails, or data is missing, it answers 503 with the reason and never an
// action. Requests for one deployment are served one at a time.
//
// Annotations read: latencySoftConstraint and latencyHardConstraint (ms, as in the original project) and the
// per-deployment query overrides maestro.io/query-cpu-usage, maestro.io/query-memory-usage,
// maestro.io/query-latency, maestro.io/query-rps and maestro.io/pods (see prom/state_builder.hpp).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/action.hpp"
#include "core/observation.hpp"
#include "core/reward.hpp"
#include "net/http_server.hpp"
#include "prom/state_builder.hpp"
#include "services/suggestion_server/keyed_mutex.hpp"
#include "services/suggestion_server/sources.hpp"

namespace maestro::suggestion_server {

inline constexpr const char* kSoftConstraintAnnotation = "latencySoftConstraint";
inline constexpr const char* kHardConstraintAnnotation = "latencyHardConstraint";

struct Suggestion {
  std::string namespace_name;
  std::string deployment;
  core::Observation observation;
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
};

class SuggestionServer {
 public:
  // The sources must outlive the server.
  SuggestionServer(DeploymentSource& kubernetes, prom::StateBuilder& state_builder, ActionModel& model,
                   SuggestionServerOptions options = {});
  ~SuggestionServer();

  // One decision, as GET /suggest makes it (serialised per deployment).
  std::expected<Suggestion, SuggestionError> suggest(const std::string& namespace_name,
                                                     const std::string& deployment);

  Result<std::uint16_t> listen(std::string_view address) { return http_.listen(address); }
  void start() { http_.start(); }
  void run();
  void stop() { http_.stop(); }
  net::HttpServer& http() { return http_; }

 private:
  struct Metrics;
  void handle(const net::HttpRequest& request, net::HttpResponse& response);
  std::expected<Suggestion, SuggestionError> decide(const std::string& namespace_name,
                                                    const std::string& deployment);

  DeploymentSource& kubernetes_;
  prom::StateBuilder& state_builder_;
  ActionModel& model_;
  KeyedMutex deployments_;
  net::HttpServer http_;
  std::unique_ptr<Metrics> metrics_;
};

}  // namespace maestro::suggestion_server
