// The observation of one deployment: the five metrics of DESIGN §2, in their order and units.
#pragma once

#include <array>
#include <string_view>

#include "base/error.hpp"

namespace maestro::core {

struct Observation {
  double cpu_usage = 0;     // CPU of all pods summed, percent of one core (1.5 cores = 150)
  double memory_usage = 0;  // working-set memory of all pods summed, bytes
  double replicas = 0;      // current replicas
  double latency = 0;       // p95 request latency, milliseconds
  double rps = 0;           // requests per second served

  static constexpr std::size_t kSize = 5;
  // JSON and flag names, in the contract's order.
  static constexpr std::array<std::string_view, kSize> kFieldNames = {"cpu_usage", "memory_usage", "replicas",
                                                                      "latency", "rps"};

  std::array<double, kSize> values() const { return {cpu_usage, memory_usage, replicas, latency, rps}; }
  static Observation from_values(const std::array<double, kSize>& v) {
    return {v[0], v[1], v[2], v[3], v[4]};
  }
};

// Accepts an observation only if every field is finite and non-negative; the error names the field.
Result<Observation> validate(const Observation& observation);

}  // namespace maestro::core
