#include "calibrate/fit.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace maestro::calibrate {
namespace {

// The coefficients of variation the fit tries (log-normal service times; each costs the simulator a table
// on first use, and one machine's noise cannot tell finer steps apart).
constexpr std::array kCandidateCvs{0.25, 0.5, 1.0, 2.0};
// The share of its limit a busy pod gets (service_cores): tried in steps of 1/10 from 1/10 to all of it, then
// in steps of 1/80 within 1/10 of the best.
constexpr int kCoarseSpeedSteps = 10;
constexpr int kFineSpeedSteps = 8;

}  // namespace

SimulatedLevel simulate_level(const sim::ClusterConfig& config, double rps, int pods) {
  sim::ClusterConfig steady = config;
  steady.bounds = {1, std::max(pods, 1)};
  steady.initial_replicas = pods;
  const std::vector<double> arrivals(4, rps);
  sim::Cluster cluster(steady);
  cluster.reset(arrivals, 1, pods);
  cluster.advance(2);  // the pods start warm and empty: the second second is steady
  const auto& tick = cluster.last_tick();
  return {tick.p95_ms, tick.cpu_cores};
}

double simulated_capacity(const sim::ClusterConfig& config) {
  double lo = 0, hi = config.service.service_rate();
  for (int i = 0; i < 40; ++i) {
    const double mid = 0.5 * (lo + hi);
    (simulate_level(config, mid, 1).p95_ms <= *config.slo.soft_ms ? lo : hi) = mid;
  }
  return lo;
}

Result<Fit> fit_cluster(const Measurements& m) {
  if (!(m.cpu_limit_cores > 0) || !(m.cpu_seconds_per_request > 0))
    return fail("calibration: the CPU limit ({} cores) and CPU per request ({} s) must be positive",
                m.cpu_limit_cores, m.cpu_seconds_per_request);
  if (m.levels.empty()) return fail("calibration: no load level was measured");
  for (const auto& level : m.levels)
    if (!(level.p95_ms > 0) || !(level.rps > 0))
      return fail("calibration: the level at {:.0f} % of capacity has no answered requests",
                  100 * level.fraction);

  sim::ClusterConfig config;
  config.service.cpu_limit_cores = m.cpu_limit_cores;
  config.service.cpu_request_cores = m.cpu_limit_cores;
  config.service.cpu_seconds_per_request = m.cpu_seconds_per_request;
  config.service.idle_cpu_cores = m.idle_cpu_cores;
  config.service.service_time = sim::ServiceTimeDistribution::kLogNormal;
  config.service.base_latency_ms = 0;
  config.startup.median_seconds = m.startup_seconds;
  config.warmup.seconds = 0;  // nothing to warm in the target app (no JIT, no caches): not measured
  config.slo = {m.slo_soft_ms, m.slo_hard_ms};
  // What the simulator must reproduce: each level's p95, and the SLO at the measured capacity of one pod.
  struct Target {
    double rps;
    int pods;
    double p95_ms;
  };
  std::vector<Target> targets;
  for (const auto& level : m.levels) targets.push_back({level.rps, level.pods, level.p95_ms});
  if (m.capacity_rps_per_pod > 0) targets.push_back({m.capacity_rps_per_pod, 1, m.slo_soft_ms});
  const double min_p95 = std::min_element(targets.begin(), targets.end(), [](const auto& a, const auto& b) {
                           return a.p95_ms < b.p95_ms;
                         })->p95_ms;

  Fit best;
  best.rms_log_error = std::numeric_limits<double>::infinity();
  std::vector<double> queueing_ms(targets.size());
  // Tries one (cv, share of the limit) with the best base latency for it.
  const auto consider = [&](double cv, double share) {
    config.service.service_time_cv = cv;
    config.service.service_cores = m.cpu_limit_cores * share;
    config.service.base_latency_ms = 0;
    // With no base latency; then p95 = base + this (the base latency is a fixed delay on every request).
    for (std::size_t i = 0; i < targets.size(); ++i)
      queueing_ms[i] = simulate_level(config, targets[i].rps, targets[i].pods).p95_ms;
    // The base latency: a 0.1 ms grid up to the smallest target (it cannot exceed any p95).
    for (double base = 0; base < min_p95; base += 0.1) {
      double squares = 0;
      for (std::size_t i = 0; i < targets.size(); ++i) {
        const double error = std::log((base + queueing_ms[i]) / targets[i].p95_ms);
        squares += error * error;
      }
      const double rms = std::sqrt(squares / static_cast<double>(targets.size()));
      if (rms < best.rms_log_error) {
        best.rms_log_error = rms;
        best.cluster = config;
        best.cluster.service.base_latency_ms = std::round(base * 10) / 10;
      }
    }
  };
  // Coarse over both, then the share finely around the best.
  for (const double cv : kCandidateCvs)
    for (int step = 1; step <= kCoarseSpeedSteps; ++step)
      consider(cv, static_cast<double>(step) / kCoarseSpeedSteps);
  const double cv = best.cluster.service.service_time_cv;
  const double coarse = best.cluster.service.service_cores / m.cpu_limit_cores;
  for (int step = -kFineSpeedSteps; step <= kFineSpeedSteps; ++step) {
    const double share = coarse + step / (kFineSpeedSteps * static_cast<double>(kCoarseSpeedSteps));
    if (share > 0 && share <= 1 && step != 0) consider(cv, share);
  }
  if (auto valid = sim::validate(best.cluster); !valid) return std::unexpected(valid.error());
  return best;
}

std::string comparison_table(const Measurements& m, const sim::ClusterConfig& cluster, bool held_out) {
  std::string text =
      fmt::format("{:>5} {:>5} {:>8} {:>9} {:>9} {:>9} {:>7} {:>9} {:>8} {:>7} {:>10}\n", "pods", "load",
                  "rps", "p50 ms", "p95 ms", "sim p95", "diff", "CPU cores", "sim CPU", "diff", "throttled");
  const double capacity = simulated_capacity(cluster);
  text += fmt::format(
      "capacity of one pod (p95 = {:.0f} ms): measured {:.1f} requests/s, simulated {:.1f} ({:+.0f}%)\n",
      m.slo_soft_ms, m.capacity_rps_per_pod, capacity, 100 * (capacity / m.capacity_rps_per_pod - 1));
  for (const auto& level : held_out ? m.holdout : m.levels) {
    const auto simulated = simulate_level(cluster, level.rps, level.pods);
    text += fmt::format(
        "{:>5} {:>4.0f}% {:>8.1f} {:>9.1f} {:>9.1f} {:>9.1f} {:>+6.0f}% {:>9.3f} {:>8.3f} "
        "{:>+6.0f}% {:>9.1f}%\n",
        level.pods, 100 * level.fraction, level.rps, level.p50_ms, level.p95_ms, simulated.p95_ms,
        100 * (simulated.p95_ms / level.p95_ms - 1), level.cpu_cores, simulated.cpu_cores,
        100 * (simulated.cpu_cores / level.cpu_cores - 1), 100 * level.throttled_share);
  }
  return text;
}

std::string scenario_yaml(const Measurements& m, const Fit& fit, double steady_rps, int duration_seconds,
                          const std::string& command_line) {
  const auto& service = fit.cluster.service;
  std::string text = fmt::format(
      "# Written by `{}`.\n"
      "# Measured on the local cluster (deployment {}), medians over repeats; see docs/calibration.md.\n"
      "#   CPU per request {:.2f} ms (cgroup cpuacct), idle CPU {:.4f} cores a pod\n"
      "#   capacity {:.1f} requests/s a pod (p95 crosses {:.0f} ms; trials: {})\n"
      "#   start-up (scale-up to Ready, from the API) {:.2f} s (trials: {})\n"
      "#   fitted: base latency {:.1f} ms, log-normal service time cv {:.2f}, a busy pod gets {:.3f} of its "
      "{}\n"
      "#   cores (service_cores); p95 rms log error {:.3f}\n"
      "#   measured (runs fitted) against simulated, per level:\n",
      command_line, m.deployment, 1000 * m.cpu_seconds_per_request, m.idle_cpu_cores, m.capacity_rps_per_pod,
      m.slo_soft_ms, fmt::join(m.capacity_trials, ", "), m.startup_seconds, fmt::join(m.startup_trials, ", "),
      service.base_latency_ms, service.service_time_cv, service.service_cores, service.cpu_limit_cores,
      fit.rms_log_error);
  const auto comment = [&text](const std::string& table) {
    for (std::size_t start = 0; start < table.size();) {
      const auto end = table.find('\n', start);
      text += "#   " + table.substr(start, end - start) + "\n";
      start = end + 1;
    }
  };
  comment(comparison_table(m, fit.cluster));
  if (!m.holdout.empty()) {
    text += "#   held-out runs (interleaved with those, never fitted) against simulated:\n";
    comment(comparison_table(m, fit.cluster, true));
  }
  const double spread =
      m.startup_trials.size() < 2 || m.startup_seconds <= 0
          ? 0
          : std::min(1.0, (*std::max_element(m.startup_trials.begin(), m.startup_trials.end()) -
                           *std::min_element(m.startup_trials.begin(), m.startup_trials.end())) /
                              2 / m.startup_seconds);
  text += fmt::format(
      "name: calibrated\n"
      "description: the local cluster's {} as measured by maestro calibrate, steady at {:.0f} requests/s\n"
      "duration_seconds: {}\n"
      "traffic:\n"
      "  shape: steady\n"
      "  peak_rps: {:.1f}\n"
      "cluster:\n"
      "  min_replicas: 1\n"
      "  max_replicas: {}\n"
      "  startup_seconds: {:.2f}\n"
      "  startup_spread: {:.2f}\n"
      "  warmup_seconds: 0\n"
      "  cpu_limit_cores: {}\n"
      "  cpu_request_cores: {}\n"
      "  cpu_seconds_per_request: {:.5f}\n"
      "  idle_cpu_cores: {:.4f}\n"
      "  service_cores: {:.4f}\n"
      "  service_time: lognormal\n"
      "  service_time_cv: {}\n"
      "  base_latency_ms: {:.1f}\n"
      "  slo_soft_ms: {}\n"
      "  slo_hard_ms: {}\n",
      m.deployment, steady_rps, duration_seconds, steady_rps, fit.cluster.bounds.max, m.startup_seconds,
      spread, service.cpu_limit_cores, service.cpu_request_cores, service.cpu_seconds_per_request,
      service.idle_cpu_cores, service.service_cores, service.service_time_cv, service.base_latency_ms,
      m.slo_soft_ms, m.slo_hard_ms);
  return text;
}

}  // namespace maestro::calibrate
