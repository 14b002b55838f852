// sim::Cluster: one deployment under load, in 1-second ticks. Requests arrive from a pre-rendered
// series; pods with a CPU limit and a CPU cost per request serve them; latency comes from an M/M/c
// (Erlang C) p95 while the service keeps up and from a FIFO backlog carried across ticks when it does
// not, with requests older than the timeout dropped. New pods serve after a start-up delay; removed
// pods drain before they stop costing. Metrics are reported as Prometheus would show them (DESIGN §2
// units), averaged over a rate window and with measurement noise. Chaos kills pods (they come back
// after a restart delay) and steals CPU from pods. Everything random comes from the seed.
//
// Defaults are a small real web service: 10 ms of CPU per request on 1-core pods (100 requests/s per
// pod), 5 ms of non-CPU latency, 128 MiB working set per pod, a 10 s request timeout, pods ready
// 20 s (±25%) after creation, a 30 s rate window, SLO p95 100 ms soft / 500 ms hard, 1 to 20 replicas.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "core/error.hpp"
#include "core/observation.hpp"
#include "core/reward.hpp"
#include "core/scaling.hpp"
#include "sim/noise.hpp"

namespace maestro::sim {

struct ServiceModel {
  double cpu_limit_cores = 1.0;    // per pod; with the cost per request it sets the pod's service rate
  double cpu_request_cores = 1.0;  // per pod; what HPA utilisation is a percentage of
  double cpu_seconds_per_request = 0.010;               // mean CPU time one request needs (exponential)
  double idle_cpu_cores = 0.005;                        // per running pod, with no traffic
  double base_latency_ms = 5;                           // network and non-CPU work, added to every request
  double timeout_seconds = 10;                          // requests queued longer are dropped
  double memory_base_bytes = 128.0 * 1024 * 1024;       // working set of an idle pod
  double memory_per_request_bytes = 1.0 * 1024 * 1024;  // per request in flight
  double memory_limit_bytes = 512.0 * 1024 * 1024;

  double service_rate() const { return cpu_limit_cores / cpu_seconds_per_request; }  // requests/s per pod
};

enum class StartupDistribution { kUniform, kLogNormal };

struct StartupModel {
  StartupDistribution distribution = StartupDistribution::kUniform;
  double median_seconds = 20;  // creation to ready
  double spread = 0.25;        // uniform: ± this fraction of the median; log-normal: σ of the log
};

struct MetricsModel {
  double window_seconds = 30;  // rate window of the PromQL queries: metrics lag by about half of it
  double cpu_noise = 0.03;     // relative s.d. of each reported value
  double memory_noise = 0.01;
  double latency_noise = 0.05;
  double rps_noise = 0.01;
};

struct ChaosModel {
  double pod_kills_per_hour = 0;  // a random ready pod is killed; it serves again after the restart delay
  double restart_seconds = 15;
  double stress_per_hour = 0;  // a random ready pod loses part of its CPU to a noisy neighbour
  double stress_seconds = 120;
  double stress_capacity_loss = 0.5;  // fraction of the pod's CPU taken while stressed

  bool active() const { return pod_kills_per_hour > 0 || stress_per_hour > 0; }
};

struct ClusterConfig {
  ServiceModel service;
  StartupModel startup;
  MetricsModel metrics;
  ChaosModel chaos;
  double drain_seconds = 5;  // a removed pod stops serving at once and is billed until drained
  core::ReplicaBounds bounds{1, 20};
  int initial_replicas = 2;  // ready at time 0
  core::LatencyConstraints slo{100.0, 500.0};
};

Result<ClusterConfig> validate(const ClusterConfig& config);

enum class PodState { kStarting, kReady, kRestarting, kDraining };

struct Pod {
  PodState state = PodState::kStarting;
  double created_at = 0;       // s
  double ready_since = -1;     // last transition to ready (s); −1 if never ready
  double transition_at = 0;    // starting/restarting: ready then; draining: gone then
  double stressed_until = -1;  // CPU stress ends then
  double capacity_factor = 1;  // share of the CPU limit left for requests (stress takes the rest)
};

// Running totals since reset.
struct ClusterTotals {
  double arrivals = 0;
  double served = 0;
  double dropped = 0;
  double pod_seconds = 0;        // every pod that exists costs: starting, ready, restarting, draining
  double seconds_over_soft = 0;  // seconds whose p95 exceeded the soft SLO
  double seconds_over_hard = 0;
  int scaling_actions = 0;  // set_replicas calls that changed the replica count
};

// The last simulated second.
struct TickRecord {
  double time = 0;  // start of the second
  double arrivals = 0;
  double served = 0;
  double dropped = 0;
  double p95_ms = 0;
  double cpu_cores = 0;
  int ready_pods = 0;
  int replicas = 0;
};

class Cluster {
 public:
  // `config` must have passed validate().
  explicit Cluster(const ClusterConfig& config);

  // A new run over `arrivals` (requests arriving in each second; borrowed, must outlive the run; past its
  // end nothing arrives), starting with `initial_replicas` (default: the config's) ready.
  void reset(std::span<const double> arrivals, std::uint64_t seed, std::optional<int> initial_replicas = {});

  // Sets the deployment's replicas (clamped to the bounds): adds starting pods or removes pods,
  // starting ones first, then the most recently ready (as a ReplicaSet chooses).
  void set_replicas(int replicas);

  // Simulates `seconds` whole seconds.
  void advance(int seconds) {
    for (int i = 0; i < seconds; ++i) tick();
  }

  // The five metrics as Prometheus would report them now (draws measurement noise).
  core::Observation observe();

  double now() const { return now_; }
  int replicas() const { return replicas_; }  // pods not draining: the deployment's spec.replicas
  int ready_pods() const { return ready_count_; }
  int starting_pods() const { return replicas_ - ready_count_; }  // starting or restarting
  double queued() const { return queued_; }
  const ClusterTotals& totals() const { return totals_; }
  const TickRecord& last_tick() const { return last_tick_; }
  const ClusterConfig& config() const { return config_; }
  std::span<const double> arrivals() const { return arrivals_; }
  std::span<const Pod> pods() const { return pods_; }

  // CPU (cores) of one pod averaged over the rate window, as the metrics API reports it: the pod's share
  // of the requests served, its stress and its idle use.
  double pod_cpu_cores(const Pod& pod) const;
  // Start-up delays the next `count` new pods will have (what a clairvoyant oracle may know).
  double upcoming_startup_delay(int index) const;

 private:
  void tick();
  void process_events(double t);
  void update_next_event();
  void recompute_capacity();
  double draw_startup_delay();
  int pick_ready_pod();

  ClusterConfig config_;
  double service_rate_ = 0;  // per pod, unstressed
  std::mt19937_64 rng_;      // chaos and pod choices
  FastNormal noise_;
  std::span<const double> arrivals_;

  std::vector<Pod> pods_;
  std::vector<double> startup_delays_;  // drawn ahead, consumed in order
  std::size_t next_startup_ = 0;
  double now_ = 0;
  int replicas_ = 0;
  int ready_count_ = 0;
  int billed_pods_ = 0;
  double capacity_ = 0;  // requests/s of all ready pods
  // Derived from the pods whenever they change, so that a tick does no more than it must.
  const std::vector<double>* p95_row_ = nullptr;  // Erlang C p95 row for the ready pods
  double pod_rate_ = 0;                           // mean requests/s of a ready pod
  double stable_limit_ = 0;                       // arrivals/s the M/M/c model covers
  double background_cpu_ = 0;                     // cores of stress and idle pods
  double soft_ms_ = 0, hard_ms_ = 0;
  double next_event_ = 0;
  double next_kill_ = 0;
  double next_stress_ = 0;

  // FIFO backlog: requests still queued, by the second they arrived (a ring, oldest first).
  struct Cohort {
    double arrived = 0;
    double count = 0;
  };
  std::vector<Cohort> backlog_;
  std::size_t backlog_head_ = 0;
  std::size_t backlog_size_ = 0;
  double queued_ = 0;

  // Per-second values over the rate window (rings).
  struct WindowSample {
    double cpu_cores = 0;         // all pods
    double served_cpu_cores = 0;  // spent on requests
    double served = 0;
    double latency_weight = 0;  // p95 × served
    double in_flight = 0;
  };
  std::vector<WindowSample> window_;
  std::size_t window_head_ = 0;
  double last_observed_latency_ = 0;

  ClusterTotals totals_;
  TickRecord last_tick_;
};

}  // namespace maestro::sim
