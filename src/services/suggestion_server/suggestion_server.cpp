#include "services/suggestion_server/suggestion_server.hpp"

#include <charconv>
#include <chrono>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "prom/credentials.hpp"

namespace maestro::suggestion_server {

namespace {

constexpr int kSpareHandlerThreads = 4;

// Every reason is logged and answered to unauthenticated callers: no credentials in it, whatever a client put
// in its error.
std::unexpected<SuggestionError> no_suggestion(std::string cause, std::string_view message) {
  SuggestionError error;
  error.cause = std::move(cause);
  error.message = prom::redact_credentials(message);
  return std::unexpected(std::move(error));
}

Result<std::optional<double>> milliseconds_annotation(const std::map<std::string, std::string>& annotations,
                                                      const std::string& key) {
  const auto found = annotations.find(key);
  if (found == annotations.end()) return std::optional<double>{};
  const std::string& text = found->second;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    return fail("annotation {}='{}' is not a number of milliseconds", key, text);
  return std::optional<double>{value};
}

}  // namespace

Result<core::LatencyConstraints> constraints_from_annotations(
    const std::map<std::string, std::string>& annotations) {
  auto soft = milliseconds_annotation(annotations, kSoftConstraintAnnotation);
  if (!soft) return std::unexpected(soft.error());
  auto hard = milliseconds_annotation(annotations, kHardConstraintAnnotation);
  if (!hard) return std::unexpected(hard.error());
  auto constraints = core::validate(core::LatencyConstraints{*soft, *hard});
  if (!constraints)
    return fail("annotations {} and {}: {}", kSoftConstraintAnnotation, kHardConstraintAnnotation,
                constraints.error().message);
  return constraints;
}

std::optional<prom::QueryTemplates> templates_from_annotations(
    const std::map<std::string, std::string>& annotations) {
  const auto get = [&](const char* key) {
    const auto found = annotations.find(key);
    return found == annotations.end() ? std::string{} : found->second;
  };
  prom::QueryTemplates templates{.cpu_usage = get("maestro.io/query-cpu-usage"),
                                 .memory_usage = get("maestro.io/query-memory-usage"),
                                 .latency = get("maestro.io/query-latency"),
                                 .rps = get("maestro.io/query-rps"),
                                 .pods_reporting = get("maestro.io/query-pods-reporting")};
  if (templates.cpu_usage.empty() && templates.memory_usage.empty() && templates.latency.empty() &&
      templates.rps.empty() && templates.pods_reporting.empty())
    return std::nullopt;
  return templates;
}

std::string suggestion_json(const Suggestion& suggestion) {
  nlohmann::json observation = nlohmann::json::object();
  const auto values = suggestion.observation.values();
  for (std::size_t i = 0; i < core::Observation::kSize; ++i)
    observation[std::string(core::Observation::kFieldNames[i])] = values[i];
  nlohmann::json constraints = nullptr;
  if (suggestion.constraints.set())
    constraints = {{"latency_soft_ms", *suggestion.constraints.soft_ms},
                   {"latency_hard_ms", *suggestion.constraints.hard_ms}};
  const ModelAnswer& answer = suggestion.answer;
  return net::json_text(
      nlohmann::json{{"action", answer.action},
                     {"action_name", answer.action_name},
                     {"action_set", answer.action_set},
                     {"replica_change",
                      {{"kind", core::replica_change_kind_name(answer.replica_change.kind)},
                       {"amount", answer.replica_change.amount}}},
                     {"replicas", answer.replicas},
                     {"desired_replicas", answer.desired_replicas},
                     {"namespace", suggestion.namespace_name},
                     {"deployment", suggestion.deployment},
                     {"observation", observation},
                     {"starting_replicas", suggestion.step.starting_replicas},
                     {"feature_set", core::feature_set_name(suggestion.feature_set)},
                     {"features", suggestion.step.features},
                     {"step", {{"index", suggestion.step.index}, {"reused", suggestion.step.reused}}},
                     {"probabilities", answer.probabilities},
                     {"model_version", answer.model_version},
                     {"constraints", constraints},
                     {"took_ms", suggestion.took_ms}});
}

struct SuggestionServer::Metrics {
  explicit Metrics(prometheus::Registry& registry)
      : suggestions(prometheus::BuildCounter()
                        .Name("maestro_suggestions_total")
                        .Help("Suggestions answered, by action")
                        .Register(registry)),
        steps(prometheus::BuildCounter()
                  .Name("maestro_suggestion_steps_total")
                  .Help("Suggestions by step: new (history advanced) or reused (sooner than one interval)")
                  .Register(registry)),
        failures(prometheus::BuildCounter()
                     .Name("maestro_suggestion_failures_total")
                     .Help("Requests answered without an action, by cause")
                     .Register(registry)),
        coalesced(
            prometheus::BuildCounter()
                .Name("maestro_suggestion_coalesced_total")
                .Help("Requests answered with a decision another request for the same deployment started")
                .Register(registry)
                .Add({})),
        duration(prometheus::BuildHistogram()
                     .Name("maestro_suggestion_duration_seconds")
                     .Help("Time to make one suggestion: Kubernetes, the four queries and the prediction")
                     .Register(registry)
                     .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                                                      0.1, 0.2, 0.5, 1, 2, 5, 10})) {}

  prometheus::Family<prometheus::Counter>& suggestions;
  prometheus::Family<prometheus::Counter>& steps;
  prometheus::Family<prometheus::Counter>& failures;
  prometheus::Counter& coalesced;
  prometheus::Histogram& duration;
};

SuggestionServer::SuggestionServer(DeploymentSource& kubernetes, prom::StateBuilder& state_builder,
                                   ActionModel& model, const base::Clock& clock,
                                   SuggestionServerOptions options)
    : kubernetes_(kubernetes),
      state_builder_(state_builder),
      model_(model),
      clock_(clock),
      options_(options),
      states_(options.history),
      http_([&] {
        net::HttpServerOptions http = options.http;
        // Admitted requests may block; the spare threads refuse the rest and answer /healthz and /metrics.
        http.handler_threads = options.max_pending + kSpareHandlerThreads;
        return http;
      }()),
      metrics_(std::make_unique<Metrics>(http_.registry())) {
  for (const char* path : {"/suggest", "/suggestion"})
    http_.route("GET", path, [this](const net::HttpRequest& request, net::HttpResponse& response) {
      handle(request, response);
    });
}

SuggestionServer::~SuggestionServer() {
  http_.stop();
  decisions_.drain();  // decisions whose callers gave up may still be using the sources and states
}

void SuggestionServer::run() {
  http_.stop_on_signals();
  http_.run();
}

std::expected<Suggestion, SuggestionError> SuggestionServer::suggest(const std::string& namespace_name,
                                                                     const std::string& deployment,
                                                                     Deadline deadline,
                                                                     const std::string& autoscaler) {
  if (!prom::is_kubernetes_name(namespace_name))
    return no_suggestion("request",
                         fmt::format("namespace '{}' is not a valid Kubernetes name", namespace_name));
  if (!prom::is_kubernetes_name(deployment))
    return no_suggestion("request",
                         fmt::format("deployment '{}' is not a valid Kubernetes name", deployment));
  if (!autoscaler.empty() && !prom::is_kubernetes_name(autoscaler))
    return no_suggestion("request",
                         fmt::format("autoscaler '{}' is not a valid Kubernetes name", autoscaler));
  const auto started = std::chrono::steady_clock::now();
  auto outcome = decisions_.run(
      namespace_name + "/" + deployment, deadline,
      [this, namespace_name, deployment, autoscaler](const Coalescer<Decision>::Flight& flight) {
        return decide(namespace_name, deployment, autoscaler, flight);
      });
  if (outcome.joined) metrics_->coalesced.Increment();
  auto suggestion = [&]() -> Decision {
    if (!outcome.value || std::chrono::steady_clock::now() > deadline)
      return no_suggestion("deadline", "the request's deadline passed before its decision was made; dropped");
    return *std::move(outcome.value);
  }();
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_->duration.Observe(took);
  if (!suggestion) {
    metrics_->failures.Add({{"cause", suggestion.error().cause}}).Increment();
    spdlog::warn(
        "suggest namespace={} deployment={} outcome=unavailable cause={} took_ms={:.2f} reason=\"{}\"",
        namespace_name, deployment, suggestion.error().cause, took * 1000, suggestion.error().message);
    return suggestion;
  }
  suggestion->took_ms = took * 1000;
  metrics_->suggestions.Add({{"action", suggestion->answer.action_name}}).Increment();
  metrics_->steps.Add({{"step", suggestion->step.reused ? "reused" : "new"}}).Increment();
  const auto& o = suggestion->observation;
  spdlog::info(
      "suggest namespace={} deployment={} action={} desired_replicas={} cpu_usage={:.2f} memory_usage={:.0f} "
      "replicas={:.0f} starting={:.0f} latency={:.2f} rps={:.2f} feature_set={} step={}{} model_version={} "
      "took_ms={:.2f}",
      namespace_name, deployment, suggestion->answer.action_name, suggestion->answer.desired_replicas,
      o.cpu_usage, o.memory_usage, o.replicas, suggestion->step.starting_replicas, o.latency, o.rps,
      core::feature_set_name(suggestion->feature_set), suggestion->step.index,
      suggestion->step.reused ? "(reused)" : "", suggestion->answer.model_version, suggestion->took_ms);
  return suggestion;
}

SuggestionServer::Decision SuggestionServer::decide(const std::string& namespace_name,
                                                    const std::string& deployment,
                                                    const std::string& autoscaler,
                                                    const Coalescer<Decision>::Flight& flight) {
  const auto abandoned = [&] { return flight.abandoned(); };
  const auto dropped = [] {
    return no_suggestion("deadline",
                         "every request waiting for this decision has passed its deadline; dropped");
  };
  auto info = autoscaler.empty() ? kubernetes_.get(namespace_name, deployment)
                                 : kubernetes_.get_autoscaled(namespace_name, deployment, autoscaler);
  if (!info) return no_suggestion("kubernetes", fmt::format("kubernetes: {}", info.error().message));
  auto constraints = constraints_from_annotations(info->annotations);
  if (!constraints) return no_suggestion("annotation", constraints.error().message);

  if (abandoned()) return dropped();
  auto needs = policy_needs();
  if (!needs) return no_suggestion("model", fmt::format("model: {}", needs.error().message));

  prom::DeploymentRef ref{
      .namespace_name = namespace_name,
      .name = deployment,
      .replicas = info->replicas,
      .templates = info->templates ? info->templates : templates_from_annotations(info->annotations),
      .pods = info->pods,
      .ready_replicas = info->ready_replicas};
  if (const auto pods = info->annotations.find("maestro.io/pods"); pods != info->annotations.end())
    ref.pods = pods->second;
  const auto now = clock_.now();
  const auto state =
      states_.get(namespace_name + "/" + deployment, needs->features, needs->needs_features, now);
  auto step = state->step(now, state_builder_, ref, info->ready_replicas, states_.options(), abandoned);
  if (abandoned()) return dropped();
  if (!step) return no_suggestion("prometheus", fmt::format("prometheus: {}", step.error().message));

  if (needs->needs_cpu_request && !info->cpu_request_cores)
    return no_suggestion(
        "kubernetes",
        fmt::format("kubernetes: the pods of {}/{} request no CPU (some container has neither a "
                    "request nor a limit), and the policy's actions are CPU utilisation targets",
                    namespace_name, deployment));
  auto answer = model_.predict(
      step->observation,
      needs->needs_features ? std::span<const double>(step->features) : std::span<const double>(),
      needs->needs_cpu_request ? info->cpu_request_cores : std::nullopt);
  if (!answer) return no_suggestion("model", fmt::format("model: {}", answer.error().message));
  return Suggestion{.namespace_name = namespace_name,
                    .deployment = deployment,
                    .observation = step->observation,
                    .feature_set = needs->features.set,
                    .step = *step,
                    .answer = *answer,
                    .constraints = *constraints,
                    .took_ms = 0};
}

Result<PolicyNeeds> SuggestionServer::policy_needs() {
  auto needs = model_.needs();
  std::lock_guard lock(needs_mutex_);
  if (needs) {
    last_needs_ = *needs;
    return needs;
  }
  // The model server cannot say now: its last word stands, and the prediction that follows fails while it is
  // down (so that a Prometheus failure is still reported as such).
  if (last_needs_) return *last_needs_;
  return needs;
}

void SuggestionServer::handle(const net::HttpRequest& request, net::HttpResponse& response) {
  const auto deployment = request.query_param("deployment");
  const auto namespace_name = request.query_param("namespace");
  if (!deployment || deployment->empty()) {
    response = net::error_response(400, "missing query parameter 'deployment'");
    return;
  }
  if (!namespace_name || namespace_name->empty()) {
    response = net::error_response(400, "missing query parameter 'namespace'");
    return;
  }
  auto deadline = std::chrono::steady_clock::now() + options_.request_budget;
  if (const auto asked = request.header(kRequestTimeoutHeader)) {
    long long milliseconds = 0;
    const auto [end, error] = std::from_chars(asked->data(), asked->data() + asked->size(), milliseconds);
    if (error != std::errc{} || end != asked->data() + asked->size() || milliseconds <= 0) {
      response = net::error_response(
          400, fmt::format("header {} must be a positive number of milliseconds", kRequestTimeoutHeader));
      return;
    }
    deadline = std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(milliseconds));
  }

  // Admission: a bounded number of requests wait for or make decisions; the rest are told to come back.
  struct Admitted {
    std::atomic<int>& pending;
    ~Admitted() { --pending; }
  } admitted{pending_};
  if (++pending_ > options_.max_pending) {
    metrics_->failures.Add({{"cause", "overloaded"}}).Increment();
    response = net::json_response(
        503, net::json_text(nlohmann::json{
                 {"error", fmt::format("overloaded: {} requests in progress", options_.max_pending)},
                 {"cause", "overloaded"}}));
    response.headers.emplace_back("Retry-After", "1");
    return;
  }

  auto suggestion =
      suggest(*namespace_name, *deployment, deadline, request.query_param("autoscaler").value_or(""));
  if (!suggestion) {
    const int status = suggestion.error().cause == "request" ? 400 : 503;
    response =
        net::json_response(status, net::json_text(nlohmann::json{{"error", suggestion.error().message},
                                                                 {"cause", suggestion.error().cause}}));
    return;
  }
  response = net::json_response(200, suggestion_json(*suggestion));
}

}  // namespace maestro::suggestion_server
