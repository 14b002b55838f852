// sim::Cluster: queueing against the closed form, backlog growth and drain, timeouts, conservation,
// start-up and drain, chaos, reported metrics and determinism.
#include "sim/cluster.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cmath>

#include "sim/queueing.hpp"

namespace maestro::sim {
namespace {

ClusterConfig quiet_config() {
  ClusterConfig config;
  config.metrics.cpu_noise = config.metrics.memory_noise = config.metrics.latency_noise = 0;
  config.metrics.rps_noise = 0;
  return config;
}

void expect_conserved(const Cluster& cluster) {
  const auto& totals = cluster.totals();
  EXPECT_NEAR(totals.arrivals, totals.served + totals.dropped + cluster.queued(),
              1e-6 * (1 + totals.arrivals));
}

TEST(ClusterConfig, DefaultsAreValidAndNonsenseIsRefused) {
  EXPECT_TRUE(validate(ClusterConfig{}).has_value());
  ClusterConfig bad;
  bad.service.cpu_seconds_per_request = 0;
  EXPECT_FALSE(validate(bad).has_value());
  bad = {};
  bad.initial_replicas = 100;
  EXPECT_FALSE(validate(bad).has_value());
  bad = {};
  bad.slo = {};
  EXPECT_FALSE(validate(bad).has_value());
  bad = {};
  bad.chaos.stress_capacity_loss = 1;
  EXPECT_FALSE(validate(bad).has_value());
}

TEST(ClusterQueueing, SteadyP95MatchesErlangCAtSeveralLoads) {
  ClusterConfig config = quiet_config();
  config.initial_replicas = 4;
  const double mu = config.service.service_rate();
  for (const double utilisation : {0.2, 0.5, 0.8, 0.9, 0.95}) {
    const std::vector<double> arrivals(60, utilisation * 4 * mu);
    Cluster cluster(config);
    cluster.reset(arrivals, 1);
    cluster.advance(30);
    const double expected =
        config.service.base_latency_ms + 1000 * mmc_sojourn_quantile(4, arrivals[0], mu, 0.95);
    EXPECT_NEAR(cluster.last_tick().p95_ms / expected, 1.0, 0.005) << "ρ=" << utilisation;
    EXPECT_EQ(cluster.queued(), 0);
    // Seconds count against the SLO exactly when their p95 is over it.
    EXPECT_EQ(cluster.totals().seconds_over_soft, expected > *config.slo.soft_ms ? 30 : 0)
        << "ρ=" << utilisation;
    EXPECT_EQ(cluster.totals().seconds_over_hard, expected > *config.slo.hard_ms ? 30 : 0)
        << "ρ=" << utilisation;
  }
}

TEST(ClusterQueueing, BacklogGrowsUnderOverloadAndDrainsAfter) {
  ClusterConfig config = quiet_config();
  config.initial_replicas = 2;  // 200 requests/s
  std::vector<double> arrivals(5, 300.0);
  arrivals.resize(20, 100.0);
  Cluster cluster(config);
  cluster.reset(arrivals, 1);
  double previous_p95 = 0;
  for (int t = 0; t < 5; ++t) {
    cluster.advance(1);
    EXPECT_NEAR(cluster.queued(), 100.0 * (t + 1), 1e-9);
    EXPECT_GT(cluster.last_tick().p95_ms, previous_p95);
    previous_p95 = cluster.last_tick().p95_ms;
  }
  EXPECT_GT(previous_p95, 2000);  // 500 queued at 200/s: 2.5 s of waiting
  for (int t = 0; t < 5; ++t) {
    cluster.advance(1);
    EXPECT_NEAR(cluster.queued(), 500.0 - 100.0 * (t + 1), 1e-9);
    EXPECT_EQ(cluster.last_tick().served, 200);
  }
  cluster.advance(2);
  EXPECT_EQ(cluster.queued(), 0);
  EXPECT_LT(cluster.last_tick().p95_ms, 100);
  EXPECT_EQ(cluster.totals().dropped, 0);
  expect_conserved(cluster);
}

TEST(ClusterQueueing, RequestsWaitingPastTheTimeoutAreDropped) {
  ClusterConfig config = quiet_config();
  config.initial_replicas = 1;  // 100 requests/s
  const std::vector<double> arrivals(60, 200.0);
  Cluster cluster(config);
  cluster.reset(arrivals, 1);
  for (int t = 0; t < 60; ++t) {
    cluster.advance(1);
    expect_conserved(cluster);
    // Nothing has waited the full 10 s before the 11th second.
    if (t < config.service.timeout_seconds) {
      EXPECT_EQ(cluster.totals().dropped, 0) << t;
    }
  }
  EXPECT_EQ(cluster.totals().served, 100.0 * 60);  // the pod never idles
  EXPECT_GT(cluster.totals().dropped, 3000);
  // FIFO: what is still queued arrived within the timeout.
  EXPECT_LE(cluster.queued(), 200.0 * (config.service.timeout_seconds + 1));
  EXPECT_EQ(cluster.totals().seconds_over_hard, 60);  // a second's backlog already means p95 over 500 ms
}

TEST(ClusterQueueing, WithoutReadyPodsEverythingTimesOut) {
  ClusterConfig config = quiet_config();
  config.bounds.min = 0;
  config.initial_replicas = 0;
  const std::vector<double> arrivals(30, 10.0);
  Cluster cluster(config);
  cluster.reset(arrivals, 1);
  cluster.advance(30);
  EXPECT_EQ(cluster.totals().served, 0);
  EXPECT_EQ(cluster.totals().dropped, 10.0 * (30 - config.service.timeout_seconds));
  expect_conserved(cluster);
}

TEST(ClusterPods, NewPodsServeAfterTheStartupDelayAndRemovedPodsDrain) {
  ClusterConfig config = quiet_config();
  config.startup.spread = 0;  // exactly 20 s
  config.drain_seconds = 5;
  Cluster cluster(config);
  const std::vector<double> arrivals(100, 10.0);
  cluster.reset(arrivals, 1);
  cluster.set_replicas(5);
  EXPECT_EQ(cluster.replicas(), 5);
  EXPECT_EQ(cluster.ready_pods(), 2);
  EXPECT_EQ(cluster.starting_pods(), 3);
  cluster.advance(20);
  EXPECT_EQ(cluster.ready_pods(), 2);
  cluster.advance(1);
  EXPECT_EQ(cluster.ready_pods(), 5);
  EXPECT_NEAR(cluster.totals().pod_seconds, 21 * 5, 1e-9);
  // Scaling down: pods stop serving at once but are billed while they drain.
  cluster.set_replicas(1);
  EXPECT_EQ(cluster.ready_pods(), 1);
  cluster.advance(5);
  EXPECT_NEAR(cluster.totals().pod_seconds, 21 * 5 + 5 * 5, 1e-9);
  cluster.advance(1);
  EXPECT_NEAR(cluster.totals().pod_seconds, 21 * 5 + 5 * 5 + 1, 1e-9);
  EXPECT_EQ(cluster.pods().size(), 1u);
  EXPECT_EQ(cluster.totals().scaling_actions, 2);
}

TEST(ClusterPods, ScaleDownRemovesStartingPodsFirstAndStaysInBounds) {
  ClusterConfig config = quiet_config();
  config.bounds = {2, 8};
  Cluster cluster(config);
  cluster.reset({}, 1);
  cluster.set_replicas(4);  // 2 ready + 2 starting
  cluster.set_replicas(2);
  EXPECT_EQ(cluster.ready_pods(), 2);
  cluster.set_replicas(100);
  EXPECT_EQ(cluster.replicas(), 8);
  cluster.set_replicas(0);
  EXPECT_EQ(cluster.replicas(), 2);
}

TEST(ClusterPods, StartupDelaysFollowTheirDistributionAndAreKnownAhead) {
  ClusterConfig config = quiet_config();
  config.bounds.max = 500;
  config.startup = {StartupDistribution::kUniform, 30, 0.5};
  Cluster cluster(config);
  cluster.reset({}, 3);
  const double first = cluster.upcoming_startup_delay(0);
  EXPECT_GE(first, 15);
  EXPECT_LE(first, 45);
  cluster.set_replicas(3);  // one new pod: it gets the announced delay
  const auto& pod = cluster.pods().back();
  EXPECT_DOUBLE_EQ(pod.transition_at - pod.created_at, first);
}

TEST(ClusterMetrics, ObservationIsInTheContractUnitsAndLagsByTheWindow) {
  ClusterConfig config = quiet_config();
  config.service.idle_cpu_cores = 0;
  std::vector<double> arrivals(60, 100.0);
  arrivals.resize(120, 0.0);
  Cluster cluster(config);
  cluster.reset(arrivals, 1);
  cluster.advance(60);
  auto observation = cluster.observe();
  EXPECT_NEAR(observation.cpu_usage, 100, 1e-9);  // 100 req/s × 10 ms = one core = 100 %
  EXPECT_NEAR(observation.rps, 100, 1e-9);
  EXPECT_EQ(observation.replicas, 2);
  EXPECT_GT(observation.memory_usage, 2 * config.service.memory_base_bytes);
  EXPECT_LT(observation.memory_usage,
            2 * config.service.memory_base_bytes + 10 * config.service.memory_per_request_bytes);
  EXPECT_NEAR(observation.latency, cluster.last_tick().p95_ms, 1e-9);
  // Half a window after traffic stops the rate shows half of it.
  cluster.advance(15);
  observation = cluster.observe();
  EXPECT_NEAR(observation.rps, 50, 1e-9);
  EXPECT_NEAR(observation.cpu_usage, 50, 1e-9);
}

TEST(ClusterChaos, KilledPodsComeBackAfterTheRestartDelay) {
  ClusterConfig config = quiet_config();
  config.initial_replicas = 10;
  config.chaos.pod_kills_per_hour = 360;  // one every 10 s on average
  config.chaos.restart_seconds = 15;
  const std::vector<double> arrivals(3600, 300.0);
  Cluster cluster(config);
  cluster.reset(arrivals, 5);
  int lowest = 10;
  double ready_seconds = 0;
  for (int t = 0; t < 3600; ++t) {
    cluster.advance(1);
    lowest = std::min(lowest, cluster.ready_pods());
    ready_seconds += cluster.ready_pods();
    EXPECT_EQ(cluster.replicas(), 10);
  }
  EXPECT_LT(lowest, 10);
  // Little's law: 0.1 kills/s × 15 s restart = 1.5 pods down on average.
  EXPECT_NEAR(ready_seconds / 3600, 8.5, 0.4);
}

TEST(ClusterChaos, StressedPodsServeLessAndReportTheStolenCpu) {
  ClusterConfig config = quiet_config();
  config.service.idle_cpu_cores = 0;
  config.initial_replicas = 1;
  config.chaos.stress_per_hour = 3600 * 10;  // at once
  config.chaos.stress_seconds = 1000;
  config.chaos.stress_capacity_loss = 0.5;
  const std::vector<double> arrivals(40, 80.0);
  Cluster cluster(config);
  cluster.reset(arrivals, 1);
  cluster.advance(40);
  // 50 requests/s left: the backlog grows by 30 a second.
  EXPECT_GT(cluster.queued(), 200);
  EXPECT_NEAR(cluster.last_tick().cpu_cores, 1.0, 1e-9);  // 0.5 stress + 0.5 serving
}

TEST(ClusterDeterminism, SameSeedSameRunDifferentSeedDifferentChaos) {
  ClusterConfig config;
  config.chaos.pod_kills_per_hour = 30;
  config.chaos.stress_per_hour = 30;
  config.initial_replicas = 4;
  const std::vector<double> arrivals(2000, 330.0);
  const auto run = [&](std::uint64_t seed) {
    Cluster cluster(config);
    cluster.reset(arrivals, seed);
    std::vector<double> trace;
    for (int step = 0; step < 130; ++step) {
      cluster.advance(15);
      const auto o = cluster.observe();
      trace.insert(trace.end(), {o.cpu_usage, o.memory_usage, o.latency, o.rps, cluster.totals().dropped});
      cluster.set_replicas(3 + step % 4);
    }
    return trace;
  };
  EXPECT_EQ(run(9), run(9));
  EXPECT_NE(run(9), run(10));
}

RC_GTEST_PROP(ClusterProperties, RequestsAreConservedAndPodsStayInBounds, ()) {
  ClusterConfig config;
  config.bounds = {*rc::gen::inRange(0, 3), *rc::gen::inRange(3, 30)};
  config.initial_replicas = config.bounds.min;
  config.chaos.pod_kills_per_hour = *rc::gen::inRange(0, 600);
  config.chaos.stress_per_hour = *rc::gen::inRange(0, 600);
  config.startup.median_seconds = *rc::gen::inRange(0, 60);
  RC_ASSERT(validate(config).has_value());
  const auto arrivals = *rc::gen::container<std::vector<double>>(
      300, rc::gen::map(rc::gen::inRange(0, 4000), [](int a) { return static_cast<double>(a); }));
  Cluster cluster(config);
  cluster.reset(arrivals, *rc::gen::arbitrary<std::uint64_t>());
  for (int step = 0; step < 20; ++step) {
    cluster.set_replicas(*rc::gen::inRange(-5, 40));
    cluster.advance(15);
    const auto& totals = cluster.totals();
    RC_ASSERT(std::abs(totals.arrivals - totals.served - totals.dropped - cluster.queued()) <=
              1e-6 * (1 + totals.arrivals));
    RC_ASSERT(cluster.replicas() >= config.bounds.min);
    RC_ASSERT(cluster.replicas() <= config.bounds.max);
    RC_ASSERT(cluster.ready_pods() <= cluster.replicas());
    RC_ASSERT(cluster.queued() >= -1e-6);
    const auto o = cluster.observe();
    RC_ASSERT(core::validate(o).has_value());
  }
}

}  // namespace
}  // namespace maestro::sim
