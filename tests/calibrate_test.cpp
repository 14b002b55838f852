// maestro calibrate against real pods (ctest label "live"): calibrate the simulator on a local cluster at
// three load levels, each run followed by a held-out run the fit never sees; the counters' figures (CPU per
// request, start-up) are what they must be, and the calibrated simulator's CPU is within 25 % of every
// held-out run's. Its p95 is compared, at the same tolerance, by calibrate_goal_test (label "goal"), which
// this shared machine does not pass reliably (docs/calibration.md).
#include <gtest/gtest.h>

#include "local/pod_cgroup.hpp"
#include "support/calibration_run.hpp"

namespace maestro {
namespace {

constexpr double kTolerance = 0.25;

TEST(Calibrate, CountersAreRightAndTheCalibratedSimulatorsCpuAgreesAtThreeLoads) {
  if (auto writable = local::PodCgroup::check_writable(); !writable)
    GTEST_SKIP() << "no writable cgroups, so no CPU limit to calibrate against: " << writable.error().message;
  auto config = testing::calibration_cluster();
  local::LocalCluster cluster(config);
  ASSERT_TRUE(cluster.start().has_value());
  ASSERT_TRUE(cluster.cgroups());
  const auto run = testing::calibrate_three_levels(cluster, /*repeats=*/1);  // CPU per request varies little
  ASSERT_TRUE(run.has_value()) << run.error().message;
  EXPECT_GT(run->measured.cpu_seconds_per_request, 0.004);  // 5 ms of work, plus the HTTP server's
  EXPECT_LT(run->measured.cpu_seconds_per_request, 0.010);
  EXPECT_GE(run->measured.startup_seconds, 0.2);  // never before the start-up delay (200 ms)

  ASSERT_EQ(run->measured.holdout.size(), 3u);
  for (const auto& level : run->measured.holdout) {
    const auto simulated = calibrate::simulate_level(run->fit.cluster, level.rps, level.pods);
    EXPECT_GT(level.p95_ms, 0);
    EXPECT_GT(simulated.p95_ms, 0);
    EXPECT_NEAR(simulated.cpu_cores / level.cpu_cores, 1, kTolerance)
        << fmt::format("CPU at {:.0f} %: measured {:.3f} cores, simulated {:.3f}", 100 * level.fraction,
                       level.cpu_cores, simulated.cpu_cores);
  }
  cluster.stop();
  std::filesystem::remove_all(config.state_dir);
}

}  // namespace
}  // namespace maestro
