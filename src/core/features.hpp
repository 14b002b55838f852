// Features: what a policy's network sees, built from observations by one piece of code for training,
// evaluation and serving alike (DESIGN §1: no train/serve skew). The policy file records the feature
// set and the per-pod memory limit it was trained with.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/observation.hpp"

namespace maestro::core {

enum class FeatureSet {
  // The five metrics, memory as a fraction of the deployment's memory limit (replicas × limit per pod).
  kOriginal,
  // The original five, then: pods still starting, CPU and rps per replica, rps trends over one and four
  // steps (relative), the latency change over one step, mean rps over eight steps, the highest latency of
  // the last four steps. History is kept per builder; the first observation fills it (trends start at 0).
  kExtended,
};

// What a deployment's status says beyond the five metrics; extended feature sets use it. Live, it is
// spec.replicas − status.readyReplicas; in the simulator, pods starting or restarting.
struct DeploymentStatus {
  double starting_replicas = 0;
};

std::string_view feature_set_name(FeatureSet set);
std::optional<FeatureSet> feature_set_from_name(std::string_view name);
std::size_t feature_count(FeatureSet set);

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

  FeatureSpec spec_;
  std::array<Observation, kHistory> history_{};  // history_[(seen_ - 1 - k) % kHistory] is k steps ago
  std::size_t seen_ = 0;
};

}  // namespace maestro::core
