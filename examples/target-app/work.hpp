// The cost of one request to the sample target app: CPU time burnt, memory held, time spent waiting.
#pragma once

#include <chrono>
#include <cstddef>

#include "base/error.hpp"
#include "net/http_server.hpp"

namespace maestro::target_app {

struct RequestCost {
  std::chrono::microseconds cpu{1000};   // CPU time of the handling thread
  std::size_t memory_bytes = 64 * 1024;  // allocated, touched page by page, and held until the answer
  std::chrono::microseconds wait{0};     // sleeping, as if waiting for a database
};

// The default cost, overridden by the query parameters cpu_ms, memory_kb and wait_ms (non-negative
// numbers, each at most an hour / 1 GiB); the error names the bad parameter.
Result<RequestCost> cost_of(const net::HttpRequest& request, const RequestCost& defaults);

// Spends `cost` and returns a number derived from the work, so that the compiler cannot drop it.
std::uint64_t spend(const RequestCost& cost);

}  // namespace maestro::target_app
