// Test support: calibrate the simulator against a local cluster of the sample target app (the local
// cluster's default pod: 5 ms of CPU a request on 4 workers, half a core) at three load levels, each run
// followed by a held-out run the fit never sees, interleaved so that both see the shared machine alike.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "base/error.hpp"
#include "calibrate/fit.hpp"
#include "calibrate/measure.hpp"
#include "local/local_cluster.hpp"

namespace maestro::testing {

inline local::LocalConfig calibration_cluster() {
  using namespace std::chrono_literals;
  local::LocalConfig config;
  config.state_dir = std::filesystem::temp_directory_path() / fmt::format("maestro-calibrate-{}", ::getpid());
  std::filesystem::remove_all(config.state_dir);
  config.api_listen = "127.0.0.1:0";
  config.prometheus_binary = "";
  local::LocalDeploymentConfig web;
  web.name = "web";
  web.listen = "127.0.0.1:0";
  // The local cluster's default pod: the target app at 5 ms of CPU a request on 4 workers, half a core.
  web.command = {std::string(MAESTRO_BINARY_DIR) + "/maestro-target-app",
                 "--listen",
                 "127.0.0.1:{port}",
                 "--cpu-ms",
                 "5",
                 "--workers",
                 "4"};
  web.startup_delay = 200ms;
  web.readiness_period = 100ms;
  web.termination_grace = 5s;
  web.limits = {.cpu_cores = 0.5, .memory_bytes = 128ull << 20};
  config.deployments = {web};
  return config;
}

struct CalibrationRun {
  calibrate::Measurements measured;
  calibrate::Fit fit;
};

// Measures `cluster` (started from calibration_cluster()) and fits the simulator to it, `repeats` runs per
// level (medians: more repeats steady the p95, CPU needs few); prints both tables.
inline Result<CalibrationRun> calibrate_three_levels(local::LocalCluster& cluster, int repeats) {
  calibrate::MeasureOptions options;
  options.deployment = "web";
  options.cpu_limit_cores = 0.5;
  options.fractions = {0.2, 0.5, 0.8};
  options.pod_counts = {1};
  options.repeats = repeats;
  options.level_duration = std::chrono::seconds(3);
  options.capacity_step = std::chrono::seconds(3);
  options.capacity_searches = 1;
  options.idle_duration = std::chrono::seconds(1);
  options.startup_trials = 1;
  const std::atomic<bool> stop{false};
  auto measured = calibrate::measure(cluster, options, stop);
  if (!measured) return std::unexpected(measured.error());
  auto fit = calibrate::fit_cluster(*measured);
  if (!fit) return std::unexpected(fit.error());
  std::cout << "fitted on:\n" << calibrate::comparison_table(*measured, fit->cluster);
  std::cout << "held out:\n" << calibrate::comparison_table(*measured, fit->cluster, true);
  return CalibrationRun{std::move(*measured), std::move(*fit)};
}

}  // namespace maestro::testing
