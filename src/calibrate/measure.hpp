// Calibration's measurements on the local cluster: one deployment, measured as the simulator needs it —
// CPU seconds per request and idle CPU from the pods' cgroup counters (the local cluster's cAdvisor-like
// exporter), capacity per pod (stepped open-model load until the p95 crosses the soft SLO), p50/p95 and
// CPU at fractions of that capacity with one and with several pods behind the Service, CFS throttling at
// each level, and start-up (scale-up to Ready, as the API reports it). Every figure is a median over
// repeats: the machine is shared, and one run's p95 can be far off.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "calibrate/fit.hpp"
#include "local/local_cluster.hpp"

namespace maestro::calibrate {

struct MeasureOptions {
  std::string namespace_ = "default";
  std::string deployment = "target-app";
  double cpu_limit_cores = 0.5;  // the deployment's pods' limit (the local cluster's configuration)
  double slo_soft_ms = 100;
  double slo_hard_ms = 500;
  std::vector<double> fractions{0.2, 0.4, 0.6, 0.8};  // of the measured capacity
  std::vector<int> pod_counts{1, 2};
  int repeats = 3;            // runs per level; medians reported
  int capacity_searches = 3;  // medians reported
  bool holdout = true;  // after each run of a level, one more that the fit never sees (Measurements::holdout)
  std::chrono::milliseconds level_duration{10'000};  // one run of one level
  std::chrono::milliseconds capacity_step{6'000};    // one step of the capacity search
  std::chrono::milliseconds idle_duration{3'000};    // no load: the pods' idle CPU
  int startup_trials = 3;
  int concurrency = 128;                                // the load generator's senders
  std::function<void(const std::string&)> on_progress;  // one line per step
};

// Measures the deployment on a started cluster. Scales it as it needs and leaves it at its smallest
// pod count. `stop` ends early with an error.
Result<Measurements> measure(local::LocalCluster& cluster, const MeasureOptions& options,
                             const std::atomic<bool>& stop);

}  // namespace maestro::calibrate
