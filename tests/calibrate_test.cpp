// maestro calibrate against real pods (ctest label "live"): calibrate the simulator on a local cluster of the
// sample target app at three load levels, each run followed by a held-out run the fit never sees, and check
// that the calibrated simulator's p95 and CPU are within 25 % of the held-out runs'. The machine is shared:
// held-out runs are interleaved with the fitted ones so that both see it alike, figures are medians of three
// short runs, and the test prints every figure it compared.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "calibrate/fit.hpp"
#include "calibrate/measure.hpp"
#include "local/local_cluster.hpp"
#include "local/pod_cgroup.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;

constexpr double kTolerance = 0.25;

local::LocalConfig calibration_cluster() {
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

TEST(Calibrate, TheCalibratedSimulatorAgreesWithTheLocalClusterAtThreeLoads) {
  if (auto writable = local::PodCgroup::check_writable(); !writable)
    GTEST_SKIP() << "no writable cgroups, so no CPU limit to calibrate against: " << writable.error().message;
  auto config = calibration_cluster();
  local::LocalCluster cluster(config);
  ASSERT_TRUE(cluster.start().has_value());
  ASSERT_TRUE(cluster.cgroups());

  calibrate::MeasureOptions options;
  options.deployment = "web";
  options.cpu_limit_cores = 0.5;
  options.fractions = {0.2, 0.5, 0.8};
  options.pod_counts = {1};
  options.repeats = 3;  // each followed by a held-out run, so that both see the shared machine alike
  options.level_duration = 3s;
  options.capacity_step = 3s;
  options.capacity_searches = 1;
  options.idle_duration = 1s;
  options.startup_trials = 1;
  const std::atomic<bool> stop{false};
  const auto measured = calibrate::measure(cluster, options, stop);
  ASSERT_TRUE(measured.has_value()) << measured.error().message;
  const auto fit = calibrate::fit_cluster(*measured);
  ASSERT_TRUE(fit.has_value()) << fit.error().message;
  std::cout << "fitted on:\n" << calibrate::comparison_table(*measured, fit->cluster);
  std::cout << "held out:\n" << calibrate::comparison_table(*measured, fit->cluster, true);
  EXPECT_GT(measured->cpu_seconds_per_request, 0.004);  // 5 ms of work, plus the HTTP server's
  EXPECT_LT(measured->cpu_seconds_per_request, 0.010);
  EXPECT_GT(measured->startup_seconds, 0.2);  // never before the start-up delay

  ASSERT_EQ(measured->holdout.size(), 3u);
  for (const auto& level : measured->holdout) {
    const auto simulated = calibrate::simulate_level(fit->cluster, level.rps, level.pods);
    EXPECT_NEAR(simulated.p95_ms / level.p95_ms, 1, kTolerance)
        << fmt::format("p95 at {:.0f} % ({:.1f} requests/s): measured {:.1f} ms, simulated {:.1f} ms",
                       100 * level.fraction, level.rps, level.p95_ms, simulated.p95_ms);
    EXPECT_NEAR(simulated.cpu_cores / level.cpu_cores, 1, kTolerance)
        << fmt::format("CPU at {:.0f} %: measured {:.3f} cores, simulated {:.3f}", 100 * level.fraction,
                       level.cpu_cores, simulated.cpu_cores);
  }
  cluster.stop();
  std::filesystem::remove_all(config.state_dir);
}

}  // namespace
}  // namespace maestro
