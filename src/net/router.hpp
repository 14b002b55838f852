// Which handler answers a request, and the answers that need none — without a socket: HttpServer's
// connections read a request, ask the router, call the handler it chose (on the I/O thread or a pool) and
// write the response. The endpoints every service has are answered here: /healthz, /readyz and /metrics
// (Prometheus text format, with every route's request counts and latencies:
// http_requests_total{handler,method,code} and http_request_duration_seconds{handler,method}).
//
// Routes are added before serving; after that the router is only read, from any thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "net/http_message.hpp"

namespace maestro::net {

class TokenFile;
class RouteMetrics;  // one handler's request counters and duration histogram (router.cpp)

// `method` as a metric label: one of the standard methods (GET HEAD POST PUT PATCH DELETE OPTIONS CONNECT
// TRACE) or "other", so that no client can create series at will.
std::string_view method_label(std::string_view method);

class Router {
 public:
  // `latency_buckets`: upper bounds of the request-duration histogram, in seconds. `bearer_token` set:
  // every route and the fallback require "Authorization: Bearer <its token>" (bearer_auth.hpp); /healthz,
  // /readyz and /metrics stay open.
  explicit Router(std::vector<double> latency_buckets, std::shared_ptr<TokenFile> bearer_token = nullptr);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Routes are exact paths. A known path with another method gets 405.
  void route(std::string method, std::string path, Handler handler);
  // The handler for any request no route matches (the sidecar's proxy); without one such requests get 404.
  void fallback(Handler handler);
  // /readyz answers 200 while this returns true, 503 otherwise (default: always ready).
  void set_readiness(std::function<bool()> ready);
  // The registry /metrics serialises; services add their own families to it.
  prometheus::Registry& registry();

  // What a request gets: a handler to call, or (handler null) its answer already in `response`; and the
  // metrics its answer counts under (null for probes and scrapes, which are not application traffic).
  struct Dispatch {
    const Handler* handler = nullptr;
    RouteMetrics* metrics = nullptr;
  };
  Dispatch dispatch(const HttpRequest& request, HttpResponse& response) const;
  // Calls a handler dispatch() chose: one that throws is logged and answered 500.
  static void call(const Handler& handler, const HttpRequest& request, HttpResponse& response);
  // The metrics a request that could not be read counts under: its route's if its request line was read
  // (`request` then holds it), else the unmatched requests'.
  RouteMetrics* metrics_for_unreadable(const std::optional<HttpRequest>& request) const;
  // Counts an answered request under `metrics` (nothing if null).
  static void record(RouteMetrics* metrics, std::string_view method, int status, double seconds);

 private:
  struct Route {
    std::string method;
    Handler handler;
    RouteMetrics* metrics;
  };
  // Routes are found by a request's path as it lies in the read buffer, without copying it.
  struct PathHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view path) const { return std::hash<std::string_view>{}(path); }
  };

  RouteMetrics* metrics_for(std::string handler);
  bool answer_builtin(const HttpRequest& request, HttpResponse& response) const;

  std::vector<double> latency_buckets_;
  std::shared_ptr<TokenFile> bearer_token_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_family_;
  prometheus::Family<prometheus::Histogram>& durations_family_;
  std::vector<std::unique_ptr<RouteMetrics>> route_metrics_;
  std::unordered_map<std::string, std::vector<Route>, PathHash, std::equal_to<>> routes_;  // by path
  std::optional<Route> fallback_;
  RouteMetrics* unmatched_metrics_ = nullptr;
  std::function<bool()> ready_ = [] { return true; };
};

}  // namespace maestro::net
