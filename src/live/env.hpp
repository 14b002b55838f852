// live::Env — the original's MicroserviceEnv, done right: an rl::Env over a real deployment, through any
// Kubernetes API (a cluster, or `maestro local up`) and its Prometheus. Observations come from the same
// prom::StateBuilder (the same PromQL) and core::FeatureBuilder as the suggestion server serves with, the
// pods still starting from the API as serving reads them (spec.replicas − status.readyReplicas); actions go
// through the scale subresource (GET, merge-patch with the resourceVersion read, one re-read on 409), within
// the bounds; rewards are core's (compute_reward, compute_cost_reward) as the policy file records them.
//
// A step, at a fixed control interval: act at t; wait until t + interval; then wait until every pod's newest
// samples of every metric source were scraped after t (the metric windows cover the time since the action)
// and the StateBuilder accepts them (every ready pod reports: a new pod waits for Prometheus' discovery), at
// most `metrics_wait` more; then read the deployment and build the observation. With a rate window longer
// than the interval, the window still reaches back before the action: keep window ≤ interval.
//
// Faults of the environment, not of the agent:
// - Chaos (pod kills, CPU stress; the chaos source says which hit the deployment and when) does not count
//   against the agent's SLO: a step whose metric window saw a stress ([start, end] of the stress widened by
//   the window), or that ends while the deployment is still recovering from a pod kill (from the kill until a
//   step ends with readyReplicas = spec.replicas, and a window after that), is *excused*: the cost reward's
//   SLO term is 0 for it (the pods and action terms stay), the original reward's latency term is 1 and it
//   never terminates the episode. info() reports "excused".
// - A fault reading the metrics or the API, or scaling, is no observation: the step ends the episode as
//   truncated, its observation is the last one measured (never zeros, never a guess), its reward only what
//   needs no metrics (the pods and action terms; the original reward's replica term), and info() reports
//   "fault" = 1; last_fault() says why. The next reset() waits, one interval at a time, until it can observe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "core/action_set.hpp"
#include "core/features.hpp"
#include "core/reward.hpp"
#include "core/scaling.hpp"
#include "prom/query_client.hpp"
#include "prom/state_builder.hpp"
#include "rl/env.hpp"

namespace maestro::live {

struct DeploymentState {
  int replicas = 0;        // spec.replicas
  int ready_replicas = 0;  // status.readyReplicas
  std::map<std::string, std::string> annotations;
  std::optional<double> cpu_request_cores = {};  // one pod's (spec.template); what utilisation targets need
};

// The deployment through the Kubernetes API.
class DeploymentApi {
 public:
  virtual ~DeploymentApi() = default;
  virtual Result<DeploymentState> get(const std::string& namespace_, const std::string& name) = 0;
  // Sets spec.replicas through the scale subresource; returns the replicas it replaced.
  virtual Result<int> scale(const std::string& namespace_, const std::string& name, int replicas) = 0;
};

// A chaos injection into one of the deployment's pods.
struct Fault {
  std::string kind;  // "PodChaos", "StressChaos"
  std::string pod;
  std::chrono::system_clock::time_point at;
  std::chrono::system_clock::time_point until;  // a kill: at; a stress: its end (max: not yet known)
};

// Where chaos comes from and is reported: the local cluster's chaos endpoint (chaos_client.hpp).
class ChaosSource {
 public:
  virtual ~ChaosSource() = default;
  // Applies Chaos Mesh specs (e.g. a Schedule: chaos on a schedule).
  virtual Result<void> apply(const std::string& yaml) = 0;
  // The injections into `deployment`'s pods so far.
  virtual Result<std::vector<Fault>> faults(const std::string& namespace_, const std::string& deployment) = 0;
};

struct EnvConfig {
  std::string namespace_ = "default";
  std::string deployment;
  core::FeatureSpec features;
  core::ActionSet actions = core::multi_action_set();
  core::RewardSpec reward;
  core::ReplicaBounds bounds{1, 10};
  // The SLO the reward prices; none: the deployment's latencySoftConstraint/latencyHardConstraint
  // annotations.
  std::optional<core::LatencyConstraints> slo;
  std::chrono::milliseconds interval{15'000};
  std::chrono::milliseconds metrics_wait{30'000};  // after the interval, for the metrics to cover the step
  int episode_steps = 40;
  std::chrono::seconds window{
      15};  // the rate window of every query (the state options' window is set from it)
  prom::StateBuilderOptions state;  // the suggestion server's defaults: the same queries
  std::string chaos_spec;           // Chaos Mesh YAML applied at the first reset; "" none
};

Result<EnvConfig> validate(const EnvConfig& config);

class Env final : public rl::Env {
 public:
  // `api`, `metrics` and `chaos` (may be null) must outlive the env; `config` must have passed validate().
  Env(EnvConfig config, DeploymentApi& api, prom::MetricsSource& metrics, ChaosSource* chaos);

  std::size_t observation_size() const override;
  int action_count() const override { return config_.actions.size(); }
  // Starts an episode from the deployment as it is (its replicas are not changed): waits, an interval at a
  // time, until it can be observed. The seed is unused: the world is the randomness.
  void reset(std::uint64_t seed, std::span<double> observation) override;
  rl::StepResult step(int action, std::span<double> observation) override;
  std::vector<std::pair<std::string, double>> info() const override;

  const std::string& last_fault() const { return last_fault_; }
  const core::Observation& last_observation() const { return last_observation_; }

 private:
  struct Observed {
    core::Observation observation;
    DeploymentState deployment;
  };
  // Waits for the metrics to cover the time since `action_at` (steady clock), then observes.
  prom::DeploymentRef deployment_ref() const;
  Result<Observed> observe(std::chrono::steady_clock::time_point action_at);
  Result<void> wait_for_coverage(std::chrono::steady_clock::time_point action_at,
                                 std::chrono::steady_clock::time_point deadline);
  Result<double> share_over_slo(double soft_ms);
  Result<core::LatencyConstraints> constraints(const DeploymentState& deployment) const;
  bool excused(std::chrono::system_clock::time_point step_start, const DeploymentState& deployment);
  void write(const Observed& observed, std::span<double> out);

  EnvConfig config_;
  DeploymentApi& api_;
  prom::MetricsSource& metrics_;
  ChaosSource* chaos_;
  prom::StateBuilder builder_;
  core::FeatureBuilder features_;
  std::vector<double> feature_buffer_;
  core::Observation last_observation_;
  DeploymentState last_deployment_;
  std::chrono::system_clock::time_point last_observed_at_{};
  std::chrono::system_clock::time_point kill_recovered_until_{};
  bool recovering_from_kill_ = false;
  bool chaos_applied_ = false;
  int steps_ = 0;
  bool last_excused_ = false;
  bool last_failed_ = false;
  std::string last_fault_;
};

}  // namespace maestro::live
