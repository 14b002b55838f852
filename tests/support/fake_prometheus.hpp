// Test support: a stand-in for Prometheus's instant-query API (GET /api/v1/query) on loopback that answers
// the StateBuilder's four default queries — CPU, memory, p95 latency, rps — with the values a test sets (and
// its pods-reporting query with as many fresh pods as a test sets), as
// one sample stamped at the evaluation time asked for (never stale); it may require an Authorization header,
// answer late (slow) or answer 503 (down, as behind a proxy). Give the server handler threads to answer late.
// Values travel as Prometheus sends them: strings, here in the shortest form that reads back to the same
// double. Header-only.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "core/observation.hpp"
#include "net/http_server.hpp"

namespace maestro::testing {

class FakePrometheus {
 public:
  explicit FakePrometheus(net::HttpServerOptions options = {}) : server_(std::move(options)) {
    server_.route(
        "GET", "/api/v1/query", [this](const net::HttpRequest& request, net::HttpResponse& response) {
          const std::string query = request.query_param("query").value_or("");
          const std::string time = request.query_param("time").value_or("0");
          double value = 0;
          std::chrono::milliseconds delay{0};
          {
            std::lock_guard lock(mutex_);
            delay = delay_;
          }
          if (delay > delay.zero()) std::this_thread::sleep_for(delay);  // the fault: a slow query
          {
            std::lock_guard lock(mutex_);
            ++queries_;
            if (down_) {
              response = net::json_response(
                  503,
                  net::json_text({{"status", "error"}, {"errorType", "unavailable"}, {"error", "down"}}));
              return;
            }
            if (!authorization_.empty() && request.header("Authorization") != authorization_) {
              response = net::json_response(
                  401, net::json_text({{"status", "error"}, {"errorType", "unauthorized"}, {"error", ""}}));
              return;
            }
            if (query.find("timestamp(") != std::string::npos) {
              // The pods-reporting query: one series per pod, its newest sample 1 s old.
              std::string series;
              for (int pod = 0; pod < pods_reporting_; ++pod)
                series += fmt::format(R"({}{{"metric":{{"pod":"pod-{}"}},"value":[{},"1"]}})",
                                      pod == 0 ? "" : ",", pod, time);
              response = net::json_response(
                  200, fmt::format(R"({{"status":"success","data":{{"resultType":"vector","result":[{}]}}}})",
                                   series));
              return;
            }
            if (query.find("container_cpu_usage_seconds_total") != std::string::npos)
              value = metrics_.cpu_usage;
            else if (query.find("container_memory_working_set_bytes") != std::string::npos)
              value = metrics_.memory_usage;
            else if (query.find("http_request_duration_seconds_bucket") != std::string::npos)
              value = metrics_.latency;
            else if (query.find("http_requests_total") != std::string::npos)
              value = metrics_.rps;
            else {
              response = net::json_response(
                  400, net::json_text(
                           {{"status", "error"}, {"errorType", "bad_data"}, {"error", "unknown query"}}));
              return;
            }
          }
          response = net::json_response(
              200,
              fmt::format(R"({{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{}},)"
                          R"("value":[{},"{}"]}}]}}}})",
                          time, value));
        });
  }
  ~FakePrometheus() { server_.stop(); }

  Result<std::uint16_t> start() {
    auto port = server_.listen("127.0.0.1:0");
    if (port) server_.start();
    return port;
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", server_.port()); }

  // What the four queries answer from now on (`replicas` is Kubernetes', not Prometheus's: unused).
  void set(const core::Observation& metrics) {
    std::lock_guard lock(mutex_);
    metrics_ = metrics;
  }
  // How many pods the pods-reporting query finds (default: more than any test deploys).
  void set_pods_reporting(int pods) {
    std::lock_guard lock(mutex_);
    pods_reporting_ = pods;
  }
  // Queries without this Authorization header are answered 401 from now on ("": any is accepted).
  void require_authorization(std::string authorization) {
    std::lock_guard lock(mutex_);
    authorization_ = std::move(authorization);
  }
  // Every query is answered this much later from now on (0: at once).
  void set_delay(std::chrono::milliseconds delay) {
    std::lock_guard lock(mutex_);
    delay_ = delay;
  }
  // Every query is answered 503 from now on, until set_down(false).
  void set_down(bool down) {
    std::lock_guard lock(mutex_);
    down_ = down;
  }
  int queries() const {
    std::lock_guard lock(mutex_);
    return queries_;
  }

 private:
  net::HttpServer server_;
  mutable std::mutex mutex_;
  core::Observation metrics_;
  std::string authorization_;
  int pods_reporting_ = 1000;
  std::chrono::milliseconds delay_{0};
  bool down_ = false;
  int queries_ = 0;
};

}  // namespace maestro::testing
