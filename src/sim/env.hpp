// sim::Env: the rl::Env over a simulated cluster (DESIGN §2): every step the policy's action changes the
// deployment's replicas, the cluster runs one control interval (15 s by default), and the policy sees the
// metrics as Prometheus would report them, through core::FeatureBuilder, and the original reward
// (core::compute_reward on the reported p95; over the hard constraint the episode terminates). Episodes
// are 200 steps; each draws its traffic (window, scale, shape) from the training randomisation.
#pragma once

#include <memory>
#include <random>
#include <vector>

#include "core/features.hpp"
#include "core/observation.hpp"
#include "core/reward.hpp"
#include "rl/env.hpp"
#include "sim/cluster.hpp"
#include "traffic/randomise.hpp"

namespace maestro::sim {

struct EnvConfig {
  ClusterConfig cluster;
  traffic::Randomisation traffic;  // one shape and no scale range = the same scenario every episode
  core::FeatureSpec features{core::FeatureSet::kOriginal, ServiceModel{}.memory_limit_bytes};
  int control_interval_seconds = 15;
  int episode_steps = 200;
  int action_step = 1;  // pods per scale step (the original: 1)
  bool random_initial_replicas =
      true;                         // uniform in [min, max/2] per episode, else the cluster's initial count
  bool terminate_over_hard = true;  // the original reward's termination
};

Result<EnvConfig> validate(const EnvConfig& config);

// The replica count an action asks for: the original encoding, `step` pods down or up, within bounds.
int replicas_for_action(int current, int action, int step, const core::ReplicaBounds& bounds);

class Env final : public rl::Env {
 public:
  // `config` must have passed validate().
  explicit Env(const EnvConfig& config);

  std::size_t observation_size() const override { return features_.size(); }
  int action_count() const override { return core::kActionCount; }
  void reset(std::uint64_t seed, std::span<double> observation) override;
  rl::StepResult step(int action, std::span<double> observation) override;
  std::vector<std::pair<std::string, double>> info() const override;

  const Cluster& cluster() const { return cluster_; }
  const core::Observation& last_observation() const { return last_observation_; }
  const EnvConfig& config() const { return config_; }

 private:
  void write_features(std::span<double> out);

  EnvConfig config_;
  Cluster cluster_;
  core::FeatureBuilder features_;
  std::vector<double> arrivals_;
  std::vector<double> feature_buffer_;
  core::Observation last_observation_;
  double last_reward_ = 0;
  int steps_ = 0;
};

}  // namespace maestro::sim
