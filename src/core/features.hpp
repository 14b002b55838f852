// Features: what a policy's network sees, built from observations by one piece of code for training,
// evaluation and serving alike (DESIGN §1: no train/serve skew). The policy file records the feature
// set and the per-pod memory limit it was trained with.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "core/observation.hpp"

namespace maestro::core {

enum class FeatureSet {
  // The five metrics, memory as a fraction of the deployment's memory limit (replicas × limit per pod).
  kOriginal,
  // The original five, then: pods still starting, CPU and rps per replica, rps trends over one and four
  // steps (relative), the latency change over one step, mean rps over eight steps, the highest latency of
  // the last four steps. History is kept per builder; the first observation fills it (trends start at 0).
  kExtended,
  // The extended set, then the CPU per replica that the busiest step of the last 5, 15 and 60 minutes
  // would put on today's replicas, and the mean over the last hour likewise (control steps of 15 s):
  // what an HPA's scale-down stabilisation window remembers, so a policy can hold a recent burst's pods
  // instead of giving them back between bursts.
  kLong,
};

// What a deployment's status says beyond the five metrics; extended feature sets use it. Live, it is
// spec.replicas − status.readyReplicas; in the simulator, pods starting or restarting.
struct DeploymentStatus {
  double starting_replicas = 0;
};

std::string_view feature_set_name(FeatureSet set);
std::optional<FeatureSet> feature_set_from_name(std::string_view name);
std::size_t feature_count(FeatureSet set);
// The control steps of history the set looks back over (1 for sets without history).
std::size_t history_steps(FeatureSet set);

struct FeatureSpec {
  FeatureSet set = FeatureSet::kOriginal;
  double memory_limit_bytes_per_pod = 512.0 * 1024 * 1024;
};

Result<FeatureSpec> validate(const FeatureSpec& spec);

// Builds the feature vector of one deployment, step after step. Feature sets that look at history keep it
// here; start each episode or deployment with a fresh builder.
class FeatureBuilder {
 public:
  explicit FeatureBuilder(const FeatureSpec& spec);

  const FeatureSpec& spec() const { return spec_; }
  std::size_t size() const { return feature_count(spec_.set); }

  // Writes the features of the latest observation into `out` (size()). Extended sets read `status`; the
  // overload without it assumes no pod is starting.
  void build(const Observation& observation, const DeploymentStatus& status, std::vector<double>& out);
  void build(const Observation& observation, std::vector<double>& out) { build(observation, {}, out); }

  // Forgets the history (a new episode or deployment).
  void reset() { seen_ = 0; }

 private:
  static constexpr std::size_t kHistory = 8;

  void build_long(const Observation& observation, double replicas, std::vector<double>& out);

  FeatureSpec spec_;
  std::array<Observation, kHistory> history_{};  // history_[(seen_ - 1 - k) % kHistory] is k steps ago
  std::vector<double> cpu_history_;  // long set: total CPU, cpu_history_[(seen_ - 1 - k) % size] k steps ago
  std::size_t seen_ = 0;
};

}  // namespace maestro::core
