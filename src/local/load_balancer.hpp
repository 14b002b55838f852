// The Service in front of a deployment's pods: one loopback port whose connections are spread at random
// over the ready endpoints, as kube-proxy does (per connection, at layer 4: a keep-alive client stays with
// the pod it got). A connection that arrives while no endpoint is ready is closed at once, as a Service
// without endpoints rejects it. Endpoints leave the set before their pod is stopped; connections already
// open stay until either side closes them, and are counted so that the pod is stopped once they are done.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace maestro::local {

class LoadBalancer {
 public:
  explicit LoadBalancer(std::uint64_t seed);
  ~LoadBalancer();  // stops
  LoadBalancer(const LoadBalancer&) = delete;
  LoadBalancer& operator=(const LoadBalancer&) = delete;

  // Binds `host`:`port` (0: any free port) and serves on a background thread; returns the bound port.
  Result<std::uint16_t> start(const std::string& host, std::uint16_t port);
  void stop();
  std::uint16_t port() const;

  // The loopback ports of the ready pods, replacing the previous set.
  void set_endpoints(std::vector<std::uint16_t> ports);
  std::vector<std::uint16_t> endpoints() const;
  // Connections to the pod on `port` still open through the balancer (in flight, or kept alive).
  int open_connections(std::uint16_t port) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace maestro::local
