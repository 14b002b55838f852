// Calibration's arithmetic, without I/O: what was measured on the local cluster (Measurements), the
// simulator configuration that reproduces it (fit_cluster), what that simulator predicts at one load level
// (simulate_level), and the scenario file and table `maestro calibrate` writes.
//
// The fit keeps what is measured directly — CPU limit, CPU seconds per request, idle CPU, start-up delay —
// and chooses the three things the simulator cannot read from a counter, so that its p95 is closest to the
// measured p95 at every level and crosses the soft SLO at the measured capacity (least squares on log p95):
// the non-CPU latency of every request (base_latency_ms: the Service's extra hop, connection set-up), the
// spread of the service time (a log-normal's coefficient of variation), and the cores a busy pod really gets
// (service_cores ≤ its limit: less on a contended node, or when CFS throttling stalls it).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "sim/cluster.hpp"

namespace maestro::calibrate {

// One load level, measured through the Service (medians over its repeats).
struct LevelMeasurement {
  double fraction = 0;  // of the measured capacity of the `pods` pods
  int pods = 1;
  double rps = 0;     // requests/s answered
  double p50_ms = 0;  // client-side, from each request's arrival
  double p95_ms = 0;
  double cpu_cores = 0;        // all pods together, from their cgroups' CPU counters
  double throttled_share = 0;  // CFS periods throttled / periods that ran (0..1), all pods together
};

struct Measurements {
  std::string deployment;               // namespace/name
  double cpu_limit_cores = 0;           // per pod
  double cpu_seconds_per_request = 0;   // CPU counter increase per answered request (idle use taken off)
  double idle_cpu_cores = 0;            // per pod, no load
  double capacity_rps_per_pod = 0;      // the rate at which one pod's p95 crosses the soft SLO
  std::vector<double> capacity_trials;  // each trial's crossing, requests/s
  double startup_seconds = 0;           // scale-up to Ready, median
  std::vector<double> startup_trials;   // each trial, s
  double slo_soft_ms = 100;
  double slo_hard_ms = 500;
  std::vector<LevelMeasurement> levels;   // fitted
  std::vector<LevelMeasurement> holdout;  // the same levels, runs interleaved with those, never fitted
};

// As JSON (`maestro calibrate --save`, `--from`): every field by its name.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LevelMeasurement, fraction, pods, rps, p50_ms, p95_ms,
                                                cpu_cores, throttled_share)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Measurements, deployment, cpu_limit_cores,
                                                cpu_seconds_per_request, idle_cpu_cores, capacity_rps_per_pod,
                                                capacity_trials, startup_seconds, startup_trials, slo_soft_ms,
                                                slo_hard_ms, levels, holdout)

struct SimulatedLevel {
  double p95_ms = 0;     // the simulator's true steady p95 (all pods, ms)
  double cpu_cores = 0;  // all pods
};

// The simulator's steady state with `pods` warm ready pods at a constant `rps`.
SimulatedLevel simulate_level(const sim::ClusterConfig& config, double rps, int pods);

struct Fit {
  sim::ClusterConfig cluster;
  double rms_log_error = 0;  // of p95 over the levels (0.1 ≈ 10 %)
};

// The rate at which one simulated pod's steady p95 reaches the soft SLO, requests/s.
double simulated_capacity(const sim::ClusterConfig& config);

// Needs a positive limit and CPU per request and at least one level; the levels' p95 must be positive.
Result<Fit> fit_cluster(const Measurements& measurements);

// A scenario file in the format of scenarios/README.md whose cluster section is `fit`, with the
// measurements as comments; its traffic holds steady at `steady_rps` for `duration_seconds`.
std::string scenario_yaml(const Measurements& measurements, const Fit& fit, double steady_rps,
                          int duration_seconds, const std::string& command_line);

// The measured and simulated figures side by side: capacity, then one row per level (the held-out runs'
// levels if `held_out`).
std::string comparison_table(const Measurements& measurements, const sim::ClusterConfig& cluster,
                             bool held_out = false);

}  // namespace maestro::calibrate
