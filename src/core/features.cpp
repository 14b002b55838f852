#include "core/features.hpp"

#include <algorithm>
#include <cmath>

namespace maestro::core {

std::string_view feature_set_name(FeatureSet set) {
  switch (set) {
    case FeatureSet::kOriginal:
      return "original";
  }
  return "unknown";
}

std::optional<FeatureSet> feature_set_from_name(std::string_view name) {
  if (name == "original") return FeatureSet::kOriginal;
  return std::nullopt;
}

std::size_t feature_count(FeatureSet set) {
  switch (set) {
    case FeatureSet::kOriginal:
      return Observation::kSize;
  }
  return 0;
}

Result<FeatureSpec> validate(const FeatureSpec& spec) {
  if (!std::isfinite(spec.memory_limit_bytes_per_pod) || spec.memory_limit_bytes_per_pod <= 0)
    return fail("memory limit per pod ({}) must be a positive number of bytes", spec.memory_limit_bytes_per_pod);
  return spec;
}

FeatureBuilder::FeatureBuilder(const FeatureSpec& spec) : spec_(spec) {}

void FeatureBuilder::build(const Observation& observation, std::vector<double>& out) {
  out.resize(size());
  // A deployment at zero replicas uses no memory; dividing by one pod's limit keeps the fraction finite.
  const double memory_limit = std::max(observation.replicas, 1.0) * spec_.memory_limit_bytes_per_pod;
  out[0] = observation.cpu_usage;
  out[1] = observation.memory_usage / memory_limit;
  out[2] = observation.replicas;
  out[3] = observation.latency;
  out[4] = observation.rps;
}

}  // namespace maestro::core
