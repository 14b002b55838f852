// The HTTP/1.1 server every MAESTRO service runs on (Boost.Beast on Asio): keep-alive, TCP_NODELAY, request
// size limits (413, 431; chunk extensions included, net/request_limits.hpp), read and idle timeouts, a
// connection cap and graceful stop that finishes requests in flight. Which handler answers, and the
// endpoints every service has (/healthz, /readyz, /metrics), are its net::Router's (net/router.hpp).
//
// Threading: each I/O thread runs its own event loop and owns the connections it accepted, so a connection
// is never touched by two threads. Handlers run on the I/O thread (they must not block: the model server's
// /predict) unless `handler_threads` > 0, when they run on a pool of their own (they may block: the
// suggestion server waits on Prometheus and the model).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "net/http_message.hpp"
#include "net/router.hpp"
#include "net/url.hpp"  // parse_listen_address, for the services that listen

namespace maestro::net {

// `wanted` connections, held to what 3/4 of the process's file-descriptor limit (RLIMIT_NOFILE) allows at
// `descriptors_per_connection` each, and at least 1: the rest is left for files, clients and the listener.
std::size_t connection_cap(std::size_t wanted, std::size_t descriptors_per_connection);

using Handler = std::function<void(const HttpRequest& request, HttpResponse& response)>;

struct HttpServerOptions {
  int io_threads = 1;
  int handler_threads = 0;                         // 0: handlers run on the I/O threads and must not block
  std::size_t max_body_bytes = 1 << 20;            // larger bodies are answered 413
  std::size_t max_header_bytes = 16 << 10;         // larger headers are answered 431
  std::chrono::milliseconds read_timeout{10'000};  // from a request's first byte to its last
  std::chrono::milliseconds idle_timeout{60'000};  // a connection waiting for its next request's first byte
  // Open connections at most; the cap is further held to 3/4 of the process's file-descriptor limit. A
  // connection arriving at the cap closes the longest-idle connection (or, failing one, the longest one
  // still sending its header); when every connection is busy it is answered 503 and closed.
  std::size_t max_connections = 1024;
  std::chrono::milliseconds drain_timeout{10'000};  // how long stop() lets requests in flight finish
  // Set: every route and the fallback require "Authorization: Bearer <this file's token>" (bearer_auth.hpp);
  // /healthz, /readyz and /metrics stay open.
  std::shared_ptr<TokenFile> bearer_token = nullptr;
  // Upper bounds of the request-duration histogram, in seconds.
  std::vector<double> latency_buckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01,
                                         0.015,  0.02,    0.03,   0.04,  0.05,   0.075, 0.1,    0.15,
                                         0.2,    0.3,     0.5,    0.75,  1,      2.5,   5,      10};
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options = {});
  ~HttpServer();  // stops (gracefully) if still running
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes are exact paths; add them before start(). A known path with another method gets 405.
  void route(std::string method, std::string path, Handler handler);
  // The handler for any request no route matches (the sidecar's proxy); without one such requests get 404.
  void fallback(Handler handler);

  // /readyz answers 200 while this returns true, 503 otherwise (default: always ready).
  void set_readiness(std::function<bool()> ready);
  // The registry /metrics serialises; services add their own families to it.
  prometheus::Registry& registry();

  // Binds and listens ("127.0.0.1:0" picks a free port); returns the bound port.
  Result<std::uint16_t> listen(std::string_view address);
  std::uint16_t port() const;

  // Serves on background threads until stop().
  void start();
  // Serves until stop() (or a handled signal) and returns once every request in flight is answered.
  void run();
  // Stops accepting, closes idle connections, lets requests in flight finish (at most drain_timeout) and
  // waits for the I/O threads. Safe to call from any thread (not from a handler), and more than once.
  void stop();
  // Calls `on_signal(signal)` on the server's thread when one of `signals` arrives; stop_on_signals() uses
  // it for SIGTERM and SIGINT. Call before start()/run().
  void handle_signals(std::vector<int> signals, std::function<void(int)> on_signal);
  void stop_on_signals();

  // Requests answered so far (all routes, all statuses).
  std::uint64_t requests_served() const;

  struct Impl;  // the event loops and connections, in the .cpp

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace maestro::net
