// sim::Env: the rl::Env over a simulated cluster (DESIGN §2): every step the policy's action (an index into
// the action set, core::ActionSet) changes the deployment's replicas within its bounds, the cluster runs one
// control interval (15 s by default), and the policy sees the metrics as Prometheus would report them,
// through core::FeatureBuilder. The reward is `cost` (core::compute_cost_reward over the interval's
// pod-seconds, requests over the soft SLO and scaling action) or `original` (core::compute_reward on the
// reported p95; over the hard constraint the episode terminates). Episodes are 200 steps; each draws its
// traffic (window, scale, shape) from the traffic randomisation and, when enabled, its cluster (start-up
// delay, per-pod capacity, chaos) from the cluster randomisation.
#pragma once

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/action_set.hpp"
#include "core/features.hpp"
#include "core/observation.hpp"
#include "core/reward.hpp"
#include "nn/policy_file.hpp"
#include "rl/env.hpp"
#include "rl/ppo.hpp"
#include "sim/cluster.hpp"
#include "traffic/randomise.hpp"

namespace maestro::sim {

// Per-episode draws of the cluster, so that a policy learns the dynamics rather than one service. The
// traffic's peak is drawn by traffic::Randomisation. Every range is [min, max], uniform.
struct ClusterRandomisation {
  bool enabled = false;
  double startup_seconds_min = 10;  // median pod start-up delay
  double startup_seconds_max = 60;
  double capacity_scale_min = 0.7;  // per-pod capacity × this (the CPU each request needs ÷ it)
  double capacity_scale_max = 1.4;
  double chaos_probability = 0.3;  // share of episodes with chaos
  double pod_kills_per_hour_max = 12;
  double stress_per_hour_max = 12;
  // One drawn per episode, uniformly; empty: the cluster's own. Pooled is an idealisation no Service has.
  std::vector<Balancer> balancers = {Balancer::kRandom, Balancer::kRoundRobin, Balancer::kLeastRequest};

  friend bool operator==(const ClusterRandomisation&, const ClusterRandomisation&) = default;
};

struct EnvConfig {
  ClusterConfig cluster;
  traffic::Randomisation traffic;  // one shape and no scale range = the same scenario every episode
  ClusterRandomisation randomisation;
  core::FeatureSpec features{core::FeatureSet::kOriginal, ServiceModel{}.memory_limit_bytes};
  core::ActionSet actions = core::multi_action_set();
  core::RewardSpec reward;  // cost
  int control_interval_seconds = 15;
  int episode_steps = 200;
  bool random_initial_replicas =
      true;  // uniform in [min, max/2] per episode, else the cluster's initial count
};

Result<EnvConfig> validate(const EnvConfig& config);

// The replica count action `code` of `actions` asks for from `current`, within bounds, on the cluster's
// CPU as `observed` reports it (utilisation targets). The code must be in the set.
int replicas_for_action(int current, const core::ActionSet& actions, int code,
                        const core::ReplicaBounds& bounds, const core::Observation& observed,
                        const ClusterConfig& cluster);

// The cluster of one episode: `base` with the randomisation's draws (unchanged when it is not enabled).
ClusterConfig draw_episode_cluster(const ClusterConfig& base, const ClusterRandomisation& randomisation,
                                   std::mt19937_64& rng);

// How a policy trained on this environment describes itself in its file: features, action set, reward
// (with its weights) and the traffic it was trained on.
rl::PolicyDescription policy_description(const EnvConfig& config, std::string environment,
                                         std::vector<nn::DataWindow> training_data);

class Env final : public rl::Env {
 public:
  // `config` must have passed validate().
  explicit Env(const EnvConfig& config);

  std::size_t observation_size() const override { return features_.size(); }
  int action_count() const override { return config_.actions.size(); }
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
  int steps_ = 0;
};

}  // namespace maestro::sim
