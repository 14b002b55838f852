// Test support: a known load on an HTTP service — a fixed number of keep-alive clients, each sending at a
// fixed rate for at most a given time — recording when each request finished, its latency as the client saw
// it, and its status, so that tests can compare what Prometheus reports with what was sent and measured.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "net/http_client.hpp"

namespace maestro::testing {

struct CompletedRequest {
  std::chrono::steady_clock::time_point finished;
  double latency_seconds = 0;
  long status = 0;  // 0: no response
};

class LoadGenerator {
 public:
  struct Options {
    std::string base_url;
    int clients = 2;
    double requests_per_second_per_client = 10;
    std::chrono::seconds max_duration{60};         // a bound even if stop() is never called
    std::function<std::string(std::size_t)> path;  // the i-th request's path
  };

  explicit LoadGenerator(Options options) : options_(std::move(options)) {}
  ~LoadGenerator() { stop(); }

  void start() {
    for (int c = 0; c < options_.clients; ++c) threads_.emplace_back([this, c] { client(c); });
  }
  void stop() {
    stopping_ = true;
    wait();
  }
  // Returns when every client has run for max_duration (or was stopped).
  void wait() {
    for (auto& thread : threads_) thread.join();
    threads_.clear();
  }

  std::vector<CompletedRequest> completed() const {
    std::lock_guard lock(mutex_);
    return completed_;
  }

 private:
  void client(int index) {
    net::HttpClientOptions http_options;
    http_options.base_url = options_.base_url;
    http_options.retry.max_attempts = 1;  // a retry would hide what the server did
    net::HttpClient http(http_options);
    const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(1.0 / options_.requests_per_second_per_client));
    const auto start = std::chrono::steady_clock::now();
    const auto end = start + options_.max_duration;
    auto next = start + period * index / options_.clients;  // spread the clients over one period
    for (std::size_t i = static_cast<std::size_t>(index);
         !stopping_ && std::chrono::steady_clock::now() < end;
         i += static_cast<std::size_t>(options_.clients)) {
      std::this_thread::sleep_until(next);  // pacing the load, not waiting for a condition
      next += period;
      const auto sent = std::chrono::steady_clock::now();
      auto response = http.get(options_.path(i));
      const auto finished = std::chrono::steady_clock::now();
      std::lock_guard lock(mutex_);
      completed_.push_back({finished, std::chrono::duration<double>(finished - sent).count(),
                            response ? response->status : 0});
    }
  }

  Options options_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
  mutable std::mutex mutex_;
  std::vector<CompletedRequest> completed_;
};

// Requests that finished in [from, to].
inline std::vector<CompletedRequest> finished_between(const std::vector<CompletedRequest>& all,
                                                      std::chrono::steady_clock::time_point from,
                                                      std::chrono::steady_clock::time_point to) {
  std::vector<CompletedRequest> selected;
  for (const auto& request : all)
    if (request.finished >= from && request.finished <= to) selected.push_back(request);
  return selected;
}

// The q-quantile of the latencies (nearest rank), in seconds.
inline double latency_quantile(std::vector<CompletedRequest> requests, double q) {
  if (requests.empty()) return std::nan("");
  std::vector<double> latencies;
  for (const auto& request : requests) latencies.push_back(request.latency_seconds);
  std::sort(latencies.begin(), latencies.end());
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(latencies.size())));
  return latencies[std::max<std::size_t>(rank, 1) - 1];
}

}  // namespace maestro::testing
