// The baselines a learned policy is compared with (DESIGN §5): the Kubernetes HPA as its controller
// computes (hpa/hpa.hpp) over the simulated pods, Knative's KPA and a static allocation. The oracle, a
// lower bound on cost, is in eval/oracle.hpp.
#pragma once

#include <memory>
#include <vector>

#include "eval/autoscaler.hpp"
#include "hpa/hpa.hpp"
#include "sim/noise.hpp"

namespace maestro::eval {

// The HPA controller, reconciling every sync period (15 s) on what the metrics API would return for the
// simulated pods: CPU averaged over the rate window as of the last scrape (metrics-server's resolution is
// the scrape interval), with the CPU metric's noise; starting pods not ready (and without a sample for
// their first 15 s), killed pods not ready, draining pods deleting.
class HpaAutoscaler final : public Autoscaler {
 public:
  HpaAutoscaler(const hpa::HpaSpec& spec, const hpa::ControllerConfig& config);
  int period_seconds() const override;
  void reset(const sim::Cluster& cluster) override;
  int decide(const sim::Cluster& cluster, const core::Observation& observation) override;

  // The pods as the HPA sees them at the cluster's current time (before noise).
  static std::vector<hpa::PodSample> pod_samples(const sim::Cluster& cluster);

 private:
  hpa::HpaSpec spec_;
  hpa::ControllerConfig config_;
  std::unique_ptr<hpa::Controller> controller_;
  sim::FastNormal noise_;
};

// The HPA with the API's default behavior (4 pods or 100 % per 15 s up; 100 % per 15 s down after
// `down_window` of stabilisation), aiming at `target_percent` CPU utilisation of request.
std::unique_ptr<Autoscaler> make_hpa(const core::ReplicaBounds& bounds, int target_percent,
                                     std::chrono::seconds down_window = std::chrono::seconds(300));

// Knative's KPA (pkg/autoscaler): every 2 s, desired = ceil(average requests/s over the window ÷ target
// per pod); a 60 s stable window and a 6 s panic window; panic when the panic window asks for ≥ 200 % of
// the ready pods, and while panicking never scale down (panic ends after a stable window below that);
// scale up at most ×1000 and down at most ÷2 per decision. The target per pod is the KPA's
// target-utilisation (70 %) of the pod's capacity in requests per second (the "rps" metric).
struct KpaConfig {
  double target_rps_per_pod = 70;
  double stable_window_seconds = 60;
  double panic_window_seconds = 6;
  double panic_threshold = 2.0;
  double max_scale_up_rate = 1000;
  double max_scale_down_rate = 2;
  int tick_seconds = 2;
};

class KpaAutoscaler final : public Autoscaler {
 public:
  explicit KpaAutoscaler(const KpaConfig& config);
  int period_seconds() const override { return config_.tick_seconds; }
  void reset(const sim::Cluster& cluster) override;
  void observe_second(const sim::Cluster& cluster) override;
  int decide(const sim::Cluster& cluster, const core::Observation& observation) override;
  bool panicking() const { return panic_started_ >= 0; }

 private:
  double average_over(double seconds) const;

  KpaConfig config_;
  std::vector<double> requests_;  // requests arriving each second, a ring over the stable window
  std::size_t seen_ = 0;
  double panic_started_ = -1;  // last time the panic condition held; −1 when not panicking
  int max_panic_pods_ = 0;
};

// A fixed number of pods, whatever happens.
class StaticAutoscaler final : public Autoscaler {
 public:
  explicit StaticAutoscaler(int replicas) : replicas_(replicas) {}
  void reset(const sim::Cluster&) override {}
  int decide(const sim::Cluster&, const core::Observation&) override { return replicas_; }

 private:
  int replicas_;
};

// The fewest ready pods for which the simulated p95 of `requests_per_second` stays at or under the soft
// SLO: the simulator's own model; bounds.max + 1 if even the maximum cannot.
using sim::pods_needed;

// The pods a static allocation needs for the busiest second of `arrivals`, within bounds.
int static_allocation_for(const sim::ClusterConfig& config, std::span<const double> arrivals);

}  // namespace maestro::eval
