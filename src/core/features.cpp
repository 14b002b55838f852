#include "core/features.hpp"

#include <algorithm>
#include <cmath>

namespace maestro::core {

std::string_view feature_set_name(FeatureSet set) {
  switch (set) {
    case FeatureSet::kOriginal:
      return "original";
    case FeatureSet::kExtended:
      return "extended";
    case FeatureSet::kLong:
      return "long";
  }
  return "unknown";
}

std::optional<FeatureSet> feature_set_from_name(std::string_view name) {
  if (name == "original") return FeatureSet::kOriginal;
  if (name == "extended") return FeatureSet::kExtended;
  if (name == "long") return FeatureSet::kLong;
  return std::nullopt;
}

std::size_t feature_count(FeatureSet set) {
  switch (set) {
    case FeatureSet::kOriginal:
      return Observation::kSize;
    case FeatureSet::kExtended:
      return Observation::kSize + 8;
    case FeatureSet::kLong:
      return Observation::kSize + 8 + 4;
  }
  return 0;
}

namespace {
// The long set's windows, in control steps of 15 s: 5, 15 and 60 minutes.
constexpr std::array<std::size_t, 3> kPeakWindows = {20, 60, 240};
}  // namespace

std::size_t history_steps(FeatureSet set) {
  switch (set) {
    case FeatureSet::kOriginal:
      return 1;
    case FeatureSet::kExtended:
      return 8;
    case FeatureSet::kLong:
      return kPeakWindows.back();
  }
  return 1;
}

Result<FeatureSpec> validate(const FeatureSpec& spec) {
  if (!std::isfinite(spec.memory_limit_bytes_per_pod) || spec.memory_limit_bytes_per_pod <= 0)
    return fail("memory limit per pod ({}) must be a positive number of bytes",
                spec.memory_limit_bytes_per_pod);
  return spec;
}

FeatureBuilder::FeatureBuilder(const FeatureSpec& spec) : spec_(spec) {
  if (spec_.set == FeatureSet::kLong) cpu_history_.resize(history_steps(spec_.set));
}

void FeatureBuilder::build(const Observation& observation, const DeploymentStatus& status,
                           std::vector<double>& out) {
  out.resize(size());
  // A deployment at zero replicas uses no memory; dividing by one pod's limit keeps the fraction finite.
  const double replicas = std::max(observation.replicas, 1.0);
  const double memory_limit = replicas * spec_.memory_limit_bytes_per_pod;
  out[0] = observation.cpu_usage;
  out[1] = observation.memory_usage / memory_limit;
  out[2] = observation.replicas;
  out[3] = observation.latency;
  out[4] = observation.rps;
  if (spec_.set == FeatureSet::kOriginal) return;

  if (seen_ == 0) history_.fill(observation);
  history_[seen_ % kHistory] = observation;
  ++seen_;
  const auto ago = [&](std::size_t steps) -> const Observation& {
    return history_[(seen_ - 1 - steps) % kHistory];
  };
  const auto relative_change = [](double now, double before) {
    return (now - before) / std::max(before, 1.0);
  };
  double rps_sum = 0, latency_max = 0;
  for (std::size_t k = 0; k < kHistory; ++k) rps_sum += history_[k].rps;
  for (std::size_t k = 0; k < 4; ++k) latency_max = std::max(latency_max, ago(k).latency);
  out[5] = status.starting_replicas;
  out[6] = observation.cpu_usage / replicas;
  out[7] = observation.rps / replicas;
  out[8] = relative_change(observation.rps, ago(1).rps);
  out[9] = relative_change(observation.rps, ago(4).rps);
  out[10] = observation.latency - ago(1).latency;
  out[11] = rps_sum / kHistory;
  out[12] = latency_max;
  if (spec_.set == FeatureSet::kLong) build_long(observation, replicas, out);
}

void FeatureBuilder::build_long(const Observation& observation, double replicas, std::vector<double>& out) {
  const std::size_t size = cpu_history_.size();
  if (seen_ == 1) std::fill(cpu_history_.begin(), cpu_history_.end(), observation.cpu_usage);
  cpu_history_[(seen_ - 1) % size] = observation.cpu_usage;
  // One pass from now backwards: the peaks of the nested windows, then the hour's mean.
  double peak = 0, sum = 0;
  std::size_t window = 0;
  for (std::size_t k = 0; k < size; ++k) {
    const double cpu = cpu_history_[(seen_ - 1 - k + size) % size];
    peak = std::max(peak, cpu);
    sum += cpu;
    if (k + 1 == kPeakWindows[window]) out[13 + window++] = peak / replicas;
  }
  out[16] = sum / double(size) / replicas;
}

}  // namespace maestro::core
