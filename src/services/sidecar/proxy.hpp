// The latency sidecar's reverse proxy (the original design's Envoy sidecar, without a service mesh): placed
// in front of an application in its pod, it forwards every request to the application unchanged — headers,
// bodies streamed piece by piece in both directions, keep-alive on both sides, the application's statuses
// including 5xx passed through — and records http_requests_total{code,method} and
// http_request_duration_seconds{method} for what it forwarded, so that any application can be autoscaled on
// its p95 latency. When the application cannot be reached or breaks off before answering, the client gets
// 502 (counted as such).
//
// Each client connection has a thread and its own keep-alive connection to the application: blocking I/O
// keeps the streaming simple, and a sidecar serves one pod's traffic. What one request can make it hold is
// capped as in net::HttpServer (net/request_limits.hpp); bodies are streamed, so they have no limit. Metric
// labels are never taken from the client as sent (methods outside the standard set count as "other").
// Not supported: protocol upgrades (WebSocket), HTTP/2.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "net/http_server.hpp"

namespace prometheus {
class Registry;
}

namespace maestro::sidecar {

// The most a request's or a response's header may hold, in bytes (431 for a request over it).
inline constexpr std::uint32_t kMaxHeaderBytes = 64 * 1024;

struct ProxyOptions {
  std::string upstream_host = "127.0.0.1";
  std::uint16_t upstream_port = 8080;
  std::chrono::milliseconds idle_timeout{60'000};      // a client connection waiting for its next request
  std::chrono::milliseconds header_timeout{10'000};    // from a request's first byte to its header's last
  std::chrono::milliseconds upstream_timeout{60'000};  // the application's silence while answering
  std::chrono::milliseconds drain_timeout{10'000};     // how long stop() lets requests in flight finish
  // Client connections at most, held to 3/4 of the file-descriptor limit (net::connection_cap). One arriving
  // at the cap closes the longest-idle connection, else the one longest on its header (a slow client's); when
  // every connection is forwarding it is answered 503.
  int max_connections = 1024;
};

// Parses "HOST:PORT" for the upstream (an IP address or a name resolved at start).
Result<std::pair<std::string, std::uint16_t>> parse_upstream(std::string_view address);

class Proxy {
 public:
  // Registers its metric families in `registry`, which must outlive the proxy.
  Proxy(ProxyOptions options, prometheus::Registry& registry);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  Result<std::uint16_t> listen(std::string_view address);
  void start();  // accepts on a thread of its own
  // Stops accepting, closes idle connections, lets requests in flight finish (at most drain_timeout).
  void stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace maestro::sidecar
