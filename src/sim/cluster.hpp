// sim::Cluster: one deployment under load, in 1-second ticks. Requests arrive from a pre-rendered series
// and reach the ready pods through a load balancer: at random (kube-proxy behind a Service, the default),
// round-robin, or to the least-loaded pod (Envoy/Istio, modelled as one pooled queue). Each pod is its own
// queue (random, round-robin) with a service-time distribution (exponential or log-normal); latency comes
// from the queue's analytic sojourn distribution while a pod keeps up, plus a FIFO backlog carried across
// ticks when it does not, with requests older than the timeout dropped. New pods serve after a start-up
// delay, slowly at first (warm-up); removed pods drain before they stop costing. Every served request is
// recorded, as expected counts, into the target application's latency histogram; Prometheus scrapes it and
// the counters every 15 s, and observe() returns what the PromQL queries would (rate over the window,
// histogram_quantile), with measurement noise. Chaos kills pods (they come back after a restart delay) and
// steals CPU from pods. Everything random comes from the seed. docs/simulator.md has the model and why.
//
// Defaults are a small real web service: 10 ms of CPU per request on 1-core pods (100 requests/s per
// pod), 5 ms of non-CPU latency, 128 MiB working set per pod, a 10 s request timeout, pods ready
// 20 s (±25%) after creation and at half speed rising to full over 30 s, a 15 s scrape and 30 s rate
// window, SLO p95 100 ms soft / 500 ms hard, 1 to 20 replicas.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "base/error.hpp"
#include "core/observation.hpp"
#include "core/reward.hpp"
#include "core/scaling.hpp"
#include "sim/noise.hpp"
#include "sim/prometheus.hpp"
#include "sim/queueing.hpp"

namespace maestro::sim {

struct ServiceModel {
  double cpu_limit_cores = 1.0;    // per pod; with the cost per request it sets the pod's service rate
  double cpu_request_cores = 1.0;  // per pod; what HPA utilisation is a percentage of
  double cpu_seconds_per_request = 0.010;  // mean CPU time one request needs
  ServiceTimeDistribution service_time = ServiceTimeDistribution::kExponential;
  double service_time_cv = 1;                           // coefficient of variation (log-normal only)
  double idle_cpu_cores = 0.005;                        // per running pod, with no traffic
  double base_latency_ms = 5;                           // network and non-CPU work, added to every request
  double timeout_seconds = 10;                          // requests queued longer are dropped
  double memory_base_bytes = 128.0 * 1024 * 1024;       // working set of an idle pod
  double memory_per_request_bytes = 1.0 * 1024 * 1024;  // per request in flight
  double memory_limit_bytes = 512.0 * 1024 * 1024;

  // Cores a busy pod's requests actually get, at most its limit; 0: the limit. On an idle node a pod gets its
  // limit; on a contended one (other pods, the load generator, neighbours) or under CFS throttling it gets
  // less, and serves fewer requests a second for the same CPU each (maestro calibrate measures it).
  double service_cores = 0;

  double speed_cores() const { return service_cores > 0 ? service_cores : cpu_limit_cores; }
  double service_rate() const { return speed_cores() / cpu_seconds_per_request; }  // requests/s per pod
  // Squared coefficient of variation of the service time.
  double service_scv() const {
    return service_time == ServiceTimeDistribution::kExponential ? 1 : service_time_cv * service_time_cv;
  }
};

enum class StartupDistribution { kUniform, kLogNormal };

struct StartupModel {
  StartupDistribution distribution = StartupDistribution::kUniform;
  double median_seconds = 20;  // creation to ready
  double spread = 0.25;        // uniform: ± this fraction of the median; log-normal: σ of the log
};

// A newly ready pod (JIT, cold caches) serves at initial_speed × its rate, rising linearly to full speed over
// `seconds`.
struct WarmupModel {
  double seconds = 30;
  double initial_speed = 0.5;
};

// How requests reach the ready pods.
enum class Balancer {
  kRandom,        // kube-proxy: each request to a uniformly random ready pod (Poisson arrivals at λ/n each)
  kRoundRobin,    // each pod gets every n-th request (smoother arrivals, the same share)
  kLeastRequest,  // Envoy/Istio: close to one pooled queue; a slow pod gets less (modelled as kPooled)
  kPooled,        // one M/G/c queue in front of all ready pods
};

struct MetricsModel {
  double window_seconds = 30;           // rate window of the PromQL queries
  double scrape_interval_seconds = 15;  // Prometheus scrapes the counters and histogram this often
  double cpu_noise = 0.03;              // relative s.d. of each reported value
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
  WarmupModel warmup;
  MetricsModel metrics;
  ChaosModel chaos;
  Balancer balancer = Balancer::kRandom;
  double drain_seconds = 5;  // a removed pod stops serving at once and is billed until drained
  core::ReplicaBounds bounds{1, 20};
  int initial_replicas = 2;  // ready (and warm) at time 0
  core::LatencyConstraints slo{100.0, 500.0};
};

Result<ClusterConfig> validate(const ClusterConfig& config);

// The fewest warm, unstressed ready pods whose steady-state p95 at `requests_per_second` is within the soft
// SLO under the configured balancer and service model (at least bounds.min; bounds.max + 1 if even the
// maximum cannot). This is the model's own truth: the oracle and static baselines are built on it.
int pods_needed(const ClusterConfig& config, double requests_per_second);

// The steady-state share of requests served within the soft SLO by `pods` warm, unstressed ready pods at
// `requests_per_second` (the same model as pods_needed): 1 without traffic, 0 without pods or with a
// saturated queue.
double steady_share_within_soft_slo(const ClusterConfig& config, double requests_per_second, int pods);

enum class PodState { kStarting, kReady, kRestarting, kDraining };

struct Pod {
  PodState state = PodState::kStarting;
  double created_at = 0;       // s
  double ready_since = -1;     // last transition to ready (s); −1 if never ready
  double transition_at = 0;    // starting/restarting: ready then; draining: gone then
  double stressed_until = -1;  // CPU stress ends then
  double capacity_factor = 1;  // share of the CPU limit left for requests (stress takes the rest)
  int group = -1;              // the simulator's: the queue group of a ready pod
  int cpu_slot = -1;           // the simulator's: where its per-second CPU is kept
};

// Running totals since reset.
struct ClusterTotals {
  double arrivals = 0;
  double served = 0;
  double dropped = 0;             // timed out in a queue, or queued at a pod that was killed or removed
  double requests_over_soft = 0;  // served requests whose latency exceeded the soft SLO (expected counts)
  double requests_over_hard = 0;
  double pod_seconds = 0;        // every pod that exists costs: starting, ready, restarting, draining
  double seconds_over_soft = 0;  // seconds whose p95 over all pods exceeded the soft SLO
  double seconds_over_hard = 0;
  int scaling_actions = 0;  // set_replicas calls that changed the replica count
};

// The last simulated second.
struct TickRecord {
  double time = 0;  // start of the second
  double arrivals = 0;
  double served = 0;
  double dropped = 0;
  double p95_ms = 0;  // true p95 over all pods (base latency alone when nothing was served or queued)
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

  // The five metrics as the PromQL queries would return them now from the scraped series (draws
  // measurement noise): rate over the window of the CPU and request counters, histogram_quantile(0.95) of
  // the latency histogram's rate (the last value while the window holds no request), the last scraped memory.
  core::Observation observe();

  double now() const { return now_; }
  int replicas() const { return replicas_; }  // pods not draining: the deployment's spec.replicas
  int ready_pods() const { return ready_count_; }
  int starting_pods() const { return replicas_ - ready_count_; }  // starting or restarting
  double queued() const { return queued_; }
  const ClusterTotals& totals() const { return totals_; }
  // The last second; its p95 is worked out on the first call after a tick (a bisection over the second's
  // queues: cheap next to a tick only when called once a second or less).
  const TickRecord& last_tick() const;
  // The requests that arrived in the last second: last_tick().arrivals without working out the p95.
  double last_arrivals() const { return last_tick_.arrivals; }
  const ClusterConfig& config() const { return config_; }
  std::span<const double> arrivals() const { return arrivals_; }
  std::span<const Pod> pods() const { return pods_; }

  // CPU (cores) of one pod averaged over the rate window ending at the last scrape — what a metrics
  // pipeline that scrapes every scrape interval (metrics-server for the HPA, as Prometheus for the policies)
  // reports now — from what that pod itself did each second: the requests it served, its stress and its
  // idle use. A pod younger than a second at that scrape reports its idle use.
  double pod_cpu_cores(const Pod& pod) const;
  // When the metrics were last scraped (s): at the start, then every scrape interval.
  double last_scrape_time() const;
  // The seed of the run (reset), for autoscalers that draw their own metric noise.
  std::uint64_t seed() const { return seed_; }
  // Start-up delays the next `count` new pods will have (what a clairvoyant oracle may know).
  double upcoming_startup_delay(int index) const;

 private:
  // A FIFO backlog: requests still queued, by the second they arrived (a ring, oldest first).
  class Backlog {
   public:
    void resize(std::size_t slots) { ring_.assign(slots, {}), clear(); }
    void clear() { head_ = size_ = 0, queued_ = 0; }
    bool empty() const { return size_ == 0; }
    double queued() const { return queued_; }
    double serve(double capacity);  // oldest first; returns how many were served
    void enqueue(double arrived, double count);
    double expire(double now, double timeout);  // drops what arrived at or before now − timeout

   private:
    struct Cohort {
      double arrived = 0;
      double count = 0;
    };
    std::size_t next(std::size_t at) const { return at + 1 == ring_.size() ? 0 : at + 1; }

    std::vector<Cohort> ring_;
    std::size_t head_ = 0, size_ = 0;
    double queued_ = 0;
  };

  // Ready pods that behave alike: the same speed now and from here on, and the same backlog (per pod).
  struct PodGroup {
    int pods = 0;
    double capacity_factor = 1;
    double warm_from = 0;  // warm-up started then; −∞ once warm
    int origin = -1;       // the group whose backlog it carries (while regrouping)
    Backlog backlog;       // per pod (random and round-robin balancing)
    double served_per_pod = 0;
    double pod_cpu_cores = 0;  // this second's, of each of its pods
  };

  // One queue's served requests this second, kept so that the second's p95 can be computed on demand.
  struct QueueSecond {
    double served = 0;
    double utilisation = 0;
    int servers = 1;
    double speed = 0;        // requests/s of one server
    double fixed_delay = 0;  // s: base latency plus the backlog ahead
  };

  // For one queue shape (server speed and count): by utilisation, P(latency ≤ bound) for each histogram
  // bound and the soft and hard SLO, then the mean sojourn in service times. A steady second then costs a
  // row interpolation instead of a table lookup per bound. A row is tabulated when first used: a second of
  // warm-up is a speed of its own that uses a row or two.
  static constexpr std::size_t kBuckets = kLatencyBucketBounds.size();
  static constexpr std::size_t kSoft = kBuckets, kHard = kBuckets + 1, kMeanSojourn = kBuckets + 2;
  static constexpr std::size_t kRowWidth = kBuckets + 3;
  static constexpr int kUtilisationSteps = 512;
  struct BoundRows {
    double speed = 0;
    int servers = 0;
    double shift = 0;                     // of the bounds' grid positions, by the speed
    std::unique_ptr<double[]> values;     // (kUtilisationSteps + 1) × kRowWidth
    std::vector<std::uint8_t> tabulated;  // by row: 1 once tabulated
  };
  BoundRows& bound_rows(double speed, int servers);
  const double* bound_row(BoundRows& rows, int utilisation_step) {
    if (!rows.tabulated[static_cast<std::size_t>(utilisation_step)]) [[unlikely]]
      tabulate_row(rows, utilisation_step);
    return &rows.values[static_cast<std::size_t>(utilisation_step) * kRowWidth];
  }
  void tabulate_row(BoundRows& rows, int utilisation_step);

  void tick();
  void process_events(double t);
  void update_next_event();
  void regroup();
  double warm_speed(const PodGroup& group, double t) const;
  void serve_per_pod(double t, double arriving);
  void serve_pooled(double t, double arriving);
  // Records a queue's served requests this second into the histogram, the SLO counts and the in-flight
  // estimate. `recurring`: the speed is one of the few that recur (tabulate it), not a one-off mixture.
  void record(double served, double utilisation, int servers, double speed, double backlog_wait,
              bool recurring);
  void account_cpu();
  void scrape();
  double draw_startup_delay();
  int pick_ready_pod();
  void add_pod(const Pod& pod);

  ClusterConfig config_;
  const SojournDistribution* sojourn_ = nullptr;
  double service_rate_ = 0;  // per pod, unstressed and warm
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
  double soft_ms_ = 0, hard_ms_ = 0;
  double next_event_ = 0;
  double next_kill_ = 0;
  double next_stress_ = 0;

  std::vector<PodGroup> groups_, regrouped_;
  Backlog pooled_backlog_;  // least-request and pooled balancing
  double queued_ = 0;
  std::size_t backlog_slots_ = 0;

  // Grid positions of the histogram bounds, then the soft and hard SLO, less the base latency, for a
  // speed of 1 request/s and no backlog (−∞ where the base latency alone exceeds the bound).
  std::array<double, kBuckets + 2> bound_positions_{};
  std::array<double, kBuckets + 2> bound_delays_{};  // the same bounds in seconds less the base latency

  // This second.
  struct Second {
    double served = 0, dropped = 0, over_soft = 0, over_hard = 0, in_flight = 0, cpu_cores = 0;
  } second_;
  std::vector<QueueSecond> queue_seconds_;
  mutable std::vector<SojournDistribution::AtWait> queue_waits_;  // last_tick()'s, by queue second
  std::vector<BoundRows> bound_rows_;                             // built on first use per queue shape
  mutable bool p95_stale_ = false;

  // Counters as the application and cAdvisor export them, and Prometheus' scrapes of them.
  struct Counters {
    double time = 0;
    double served = 0;
    double cpu_seconds = 0;
    std::array<double, kBuckets + 1> buckets{};  // cumulative, then +Inf
    double memory_bytes = 0;                     // a gauge
  };
  Counters counters_;
  std::vector<Counters> scrapes_;  // a ring, oldest first from scrape_head_
  std::size_t scrape_head_ = 0, scrape_count_ = 0;
  double next_scrape_ = 0;
  double last_observed_latency_ = 0;

  // Per-pod CPU (cores) of each of the last seconds (the rate window and one scrape interval before it):
  // slot × ring + second.
  std::vector<double> pod_cpu_;
  std::vector<int> free_cpu_slots_;
  std::size_t cpu_window_ = 0;  // seconds averaged
  std::size_t cpu_ring_ = 0;    // seconds kept
  std::size_t cpu_head_ = 0;
  std::uint64_t seed_ = 0;

  ClusterTotals totals_;
  mutable TickRecord last_tick_;
};

}  // namespace maestro::sim
