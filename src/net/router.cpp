#include "net/router.hpp"

#include <algorithm>
#include <array>
#include <atomic>

#include <fmt/format.h>
#include <prometheus/gauge.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include "base/build_info.hpp"
#include "net/bearer_auth.hpp"

namespace maestro::net {

namespace {

constexpr std::array<std::string_view, 10> kMethods = {"GET",   "HEAD",    "POST",    "PUT",   "DELETE",
                                                       "PATCH", "OPTIONS", "CONNECT", "TRACE", "other"};
constexpr int kMinStatus = 100;
constexpr int kMaxStatus = 599;

std::size_t method_index(std::string_view method) {
  for (std::size_t i = 0; i + 1 < kMethods.size(); ++i)
    if (kMethods[i] == method) return i;
  return kMethods.size() - 1;
}

// The endpoints every service has, answered by the router itself.
bool is_builtin(std::string_view path) {
  return path == "/healthz" || path == "/readyz" || path == "/metrics";
}

HttpResponse not_allowed(const HttpRequest& request, std::string allowed) {
  auto response = error_response(405, fmt::format("{} is not allowed on {}", request.method, request.path));
  response.headers.emplace_back("Allow", std::move(allowed));
  return response;
}

}  // namespace

std::string_view method_label(std::string_view method) {
  return kMethods[method_index(method)];
}

// Counters are created on first use and cached in lock-free tables, so recording costs no map lookup.
class RouteMetrics {
 public:
  RouteMetrics(std::string handler, prometheus::Family<prometheus::Counter>& requests,
               prometheus::Family<prometheus::Histogram>& durations, const std::vector<double>& buckets)
      : handler_(std::move(handler)), requests_(requests), durations_(durations), buckets_(buckets) {}

  void record(std::string_view method, int status, double seconds) {
    const std::size_t m = method_index(method);
    status = std::clamp(status, kMinStatus, kMaxStatus);
    counter(m, status).Increment();
    histogram(m).Observe(seconds);
  }

 private:
  prometheus::Counter& counter(std::size_t m, int status) {
    auto& slot = counters_[m][static_cast<std::size_t>(status - kMinStatus)];
    if (auto* cached = slot.load(std::memory_order_acquire)) return *cached;
    // Family::Add is thread-safe and returns the same counter for the same labels.
    auto& created = requests_.Add(
        {{"handler", handler_}, {"method", std::string(kMethods[m])}, {"code", std::to_string(status)}});
    slot.store(&created, std::memory_order_release);
    return created;
  }

  prometheus::Histogram& histogram(std::size_t m) {
    auto& slot = histograms_[m];
    if (auto* cached = slot.load(std::memory_order_acquire)) return *cached;
    auto& created = durations_.Add({{"handler", handler_}, {"method", std::string(kMethods[m])}}, buckets_);
    slot.store(&created, std::memory_order_release);
    return created;
  }

  std::string handler_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  const std::vector<double>& buckets_;
  std::array<std::array<std::atomic<prometheus::Counter*>, kMaxStatus - kMinStatus + 1>, kMethods.size()>
      counters_{};
  std::array<std::atomic<prometheus::Histogram*>, kMethods.size()> histograms_{};
};

Router::Router(std::vector<double> latency_buckets, std::shared_ptr<TokenFile> bearer_token)
    : latency_buckets_(std::move(latency_buckets)),
      bearer_token_(std::move(bearer_token)),
      registry_(std::make_shared<prometheus::Registry>()),
      requests_family_(prometheus::BuildCounter()
                           .Name("http_requests_total")
                           .Help("HTTP requests answered, by handler, method and status code")
                           .Register(*registry_)),
      durations_family_(prometheus::BuildHistogram()
                            .Name("http_request_duration_seconds")
                            .Help("Time from a request's last byte received to its response's last byte sent")
                            .Register(*registry_)) {
  unmatched_metrics_ = metrics_for("unmatched");
  // Which build answers: every service runs on this router, so every /metrics has it.
  const auto& build = base::build_info();
  prometheus::BuildGauge()
      .Name("maestro_build_info")
      .Help("The build serving: version, git revision and compiler (always 1)")
      .Register(*registry_)
      .Add({{"version", build.version}, {"revision", build.revision}, {"compiler", build.compiler}})
      .Set(1);
}

Router::~Router() = default;

RouteMetrics* Router::metrics_for(std::string handler) {
  route_metrics_.push_back(std::make_unique<RouteMetrics>(std::move(handler), requests_family_,
                                                          durations_family_, latency_buckets_));
  return route_metrics_.back().get();
}

void Router::route(std::string method, std::string path, Handler handler) {
  auto* metrics = metrics_for(path);
  routes_[std::move(path)].push_back(Route{std::move(method), std::move(handler), metrics});
}

void Router::fallback(Handler handler) {
  fallback_ = Route{"*", std::move(handler), metrics_for("fallback")};
}

void Router::set_readiness(std::function<bool()> ready) {
  ready_ = std::move(ready);
}

prometheus::Registry& Router::registry() {
  return *registry_;
}

Router::Dispatch Router::dispatch(const HttpRequest& request, HttpResponse& response) const {
  if (answer_builtin(request, response)) return {};

  const Route* route = nullptr;
  if (const auto found = routes_.find(request.path); found != routes_.end()) {
    for (const auto& candidate : found->second)
      if (candidate.method == request.method) route = &candidate;
    if (route == nullptr) {
      std::string allowed;
      for (const auto& candidate : found->second) allowed += (allowed.empty() ? "" : ", ") + candidate.method;
      response = not_allowed(request, std::move(allowed));
      return {nullptr, found->second.front().metrics};
    }
  } else if (fallback_) {
    route = &*fallback_;
  } else {
    response = error_response(404, fmt::format("no such endpoint: {}", request.path));
    return {nullptr, unmatched_metrics_};
  }

  if (bearer_token_) {
    if (auto refused = refuse_unauthenticated(*bearer_token_, request)) {
      response = std::move(*refused);
      return {nullptr, route->metrics};
    }
  }
  return {&route->handler, route->metrics};
}

bool Router::answer_builtin(const HttpRequest& request, HttpResponse& response) const {
  if (!is_builtin(request.path)) return false;
  if (request.method != "GET" && request.method != "HEAD") {
    response = not_allowed(request, "GET, HEAD");
  } else if (request.path == "/healthz") {
    response = json_response(200, R"({"status":"ok"})");
  } else if (request.path == "/readyz") {
    response = ready_() ? json_response(200, R"({"status":"ready"})") : error_response(503, "not ready");
  } else {
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = prometheus::TextSerializer().Serialize(registry_->Collect());
  }
  return true;
}

void Router::call(const Handler& handler, const HttpRequest& request, HttpResponse& response) {
  try {
    handler(request, response);
  } catch (const std::exception& error) {
    spdlog::error("handler for {} {} threw: {}", request.method, request.path, error.what());
    response = error_response(500, "internal error");
  }
}

RouteMetrics* Router::metrics_for_unreadable(const std::optional<HttpRequest>& request) const {
  if (!request) return unmatched_metrics_;
  if (const auto found = routes_.find(request->path); found != routes_.end()) {
    for (const auto& route : found->second)
      if (route.method == request->method) return route.metrics;
    return found->second.front().metrics;
  }
  if (is_builtin(request->path)) return nullptr;
  return fallback_ ? fallback_->metrics : unmatched_metrics_;
}

void Router::record(RouteMetrics* metrics, std::string_view method, int status, double seconds) {
  if (metrics != nullptr) metrics->record(method, status, seconds);
}

}  // namespace maestro::net
