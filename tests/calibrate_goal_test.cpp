// The calibration goal (issue 9): the calibrated simulator's p95 within 25 % of the local cluster's at three
// load levels, on runs the fit never saw. On this shared 2-core machine it passed 1 run of 4
// (docs/calibration.md): the machine's load moves between the capacity search and the levels. So it carries
// the ctest label "goal" and the README's test command leaves it out (-LE goal); `ctest -L goal` runs it.
#include <gtest/gtest.h>

#include "local/pod_cgroup.hpp"
#include "support/calibration_run.hpp"

namespace maestro {
namespace {

constexpr double kTolerance = 0.25;

TEST(CalibrateGoal, TheCalibratedSimulatorsP95IsWithinAQuarterOfTheLocalClustersAtThreeLoads) {
  if (auto writable = local::PodCgroup::check_writable(); !writable)
    GTEST_SKIP() << "no writable cgroups, so no CPU limit to calibrate against: " << writable.error().message;
  auto config = testing::calibration_cluster();
  local::LocalCluster cluster(config);
  ASSERT_TRUE(cluster.start().has_value());
  const auto run = testing::calibrate_three_levels(cluster, /*repeats=*/3);
  ASSERT_TRUE(run.has_value()) << run.error().message;
  ASSERT_EQ(run->measured.holdout.size(), 3u);
  for (const auto& level : run->measured.holdout) {
    const auto simulated = calibrate::simulate_level(run->fit.cluster, level.rps, level.pods);
    EXPECT_NEAR(simulated.p95_ms / level.p95_ms, 1, kTolerance)
        << fmt::format("p95 at {:.0f} % ({:.1f} requests/s): measured {:.1f} ms, simulated {:.1f} ms",
                       100 * level.fraction, level.rps, level.p95_ms, simulated.p95_ms);
  }
  cluster.stop();
  std::filesystem::remove_all(config.state_dir);
}

}  // namespace
}  // namespace maestro
