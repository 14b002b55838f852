// The baselines on the simulator: the HPA follows load within its rate limits and stabilisation, the KPA
// panics on a surge, static allocation holds; policy names expand to the sweeps.
#include "eval/baselines.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "eval/policies.hpp"
#include "eval/runner.hpp"
#include "nn/policy_file.hpp"

namespace maestro::eval {
namespace {

Scenario steady_scenario(double rps, int duration) {
  Scenario scenario;
  scenario.name = "test";
  scenario.traffic.kind = traffic::ShapeKind::kSteady;
  scenario.traffic.peak_rps = rps;
  scenario.duration_seconds = duration;
  scenario.cluster.startup.spread = 0;
  scenario.initial_replicas = 2;
  return scenario;
}

TEST(HpaBaseline, ScalesUpToTheTargetWithinTheRateLimitAndHoldsDownForFiveMinutes) {
  // 600 requests/s of 10 ms at 50 % of a core per pod: about 12 pods.
  auto scenario = steady_scenario(600, 900);
  scenario.cluster.metrics.cpu_noise = 0;  // the rule's arithmetic, exactly
  const std::vector<double> arrivals(900, 600.0);
  auto hpa = make_hpa(scenario.cluster.bounds, 50);
  std::vector<SeriesRow> series;
  run_once(scenario, arrivals, 1, *hpa, &series);
  // First reconcile at 15 s: 2 pods saturated at their 1-core limit show 100 % of request, twice the
  // target — the HPA cannot see demand beyond the limit, so it doubles (the rate limit would allow 6).
  EXPECT_EQ(series[15].replicas, 4);
  EXPECT_GE(series.back().replicas, 12);
  EXPECT_LE(series.back().replicas, 14);
  // Then the load drops: replicas hold for the 300 s stabilisation window.
  std::vector<double> dropping(600, 600.0);
  dropping.resize(1200, 100.0);
  auto scenario2 = steady_scenario(600, 1200);
  auto hpa2 = make_hpa(scenario2.cluster.bounds, 50);
  series.clear();
  run_once(scenario2, dropping, 1, *hpa2, &series);
  const int at_drop = series[600].replicas;
  EXPECT_EQ(series[600 + 280].replicas, at_drop);
  EXPECT_LT(series[1199].replicas, at_drop / 2);
}

TEST(HpaBaseline, PodsAsTheMetricsApiShowsThem) {
  sim::ClusterConfig config;
  config.startup.spread = 0;
  sim::Cluster cluster(config);
  const std::vector<double> arrivals(100, 100.0);
  cluster.reset(arrivals, 1);
  cluster.advance(30);
  cluster.set_replicas(4);
  cluster.advance(10);
  auto samples = HpaAutoscaler::pod_samples(cluster);
  ASSERT_EQ(samples.size(), 4u);
  const hpa::CalculatorConfig calculator;
  const auto now = hpa::TimePoint{} + std::chrono::seconds(40);
  EXPECT_EQ(hpa::classify_pod(samples[0], now, calculator), hpa::PodGroup::kReady);
  EXPECT_EQ(hpa::classify_pod(samples[2], now, calculator), hpa::PodGroup::kMissing);  // no sample yet
  cluster.advance(10);
  samples = HpaAutoscaler::pod_samples(cluster);
  EXPECT_EQ(hpa::classify_pod(samples[2], now + std::chrono::seconds(10), calculator),
            hpa::PodGroup::kUnready);
  EXPECT_NEAR(*samples[0].usage_m, 500 + 5, 30);  // half a core serving, plus idle
  // As metrics-server reports it: the window up to the last scrape (45 s), not up to now.
  EXPECT_EQ(samples[0].sample_time, hpa::TimePoint{} + std::chrono::seconds(45));
  cluster.set_replicas(2);
  samples = HpaAutoscaler::pod_samples(cluster);
  EXPECT_TRUE(samples[2].deleting);
}

TEST(KpaBaseline, PanicsOnASurgeAndDoesNotScaleDownWhilePanicking) {
  auto scenario = steady_scenario(100, 400);
  std::vector<double> arrivals(100, 100.0);
  arrivals.resize(160, 1000.0);
  arrivals.resize(400, 100.0);
  KpaAutoscaler kpa(kpa_config_for(scenario.cluster));
  std::vector<SeriesRow> series;
  run_once(scenario, arrivals, 1, kpa, &series);
  EXPECT_EQ(series[99].replicas, 2);  // 100 req/s at 70 per pod
  // Within a few seconds of the surge the panic window asks for 15 pods.
  EXPECT_GE(series[106].replicas, 15);
  // The surge ends at 160 s; the panic (last over the threshold at about 124 s, while the new pods
  // started) lasts a stable window longer: no scale-down yet.
  EXPECT_GE(series[175].replicas, 15);
  EXPECT_EQ(series[399].replicas, 2);
}

TEST(PodsNeeded, IsTheSimulatorsOwnAnswer) {
  const sim::ClusterConfig config;
  EXPECT_EQ(pods_needed(config, 450), sim::pods_needed(config, 450));
  // Random balancing: each pod must stay under its ~68% knee (M/M/1 p95 of 95 ms at 100 requests/s).
  EXPECT_EQ(pods_needed(config, 450), 7);
  EXPECT_EQ(pods_needed(config, 0), config.bounds.min);
  EXPECT_EQ(pods_needed(config, 1e9), config.bounds.max + 1);
}

TEST(Policies, NamesExpandAndNonsenseIsRefused) {
  Scenario scenario;
  scenario.cluster.bounds = {2, 12};
  const auto hpa_sweep = policy_entries("hpa-sweep", scenario);
  ASSERT_EQ(hpa_sweep->size(), 14u * 6);  // 30..95 % step 5 × windows 0, 60, 300, 900, 1800, 3600 s
  EXPECT_EQ(hpa_sweep->front().name, "hpa-t30-w0");
  EXPECT_EQ(hpa_sweep->back().name, "hpa-t95-w3600");
  EXPECT_TRUE(hpa_sweep->front().sweep_point);  // scored, but no time series kept
  EXPECT_FALSE(policy_entries("hpa:50", scenario)->front().sweep_point);
  EXPECT_EQ(policy_entries("hpa:55:120", scenario)->front().name, "hpa-t55-w120");
  EXPECT_EQ(policy_entries("hpa", scenario)->front().name, "hpa");
  EXPECT_FALSE(policy_entries("hpa:x", scenario).has_value());
  const auto kpa_sweep = policy_entries("kpa-sweep", scenario);
  ASSERT_EQ(kpa_sweep->size(), 14u);
  EXPECT_EQ(kpa_sweep->front().name, "kpa-t30");
  EXPECT_EQ(policy_entries("kpa:85", scenario)->front().name, "kpa-t85");
  EXPECT_FALSE(policy_entries("kpa:", scenario).has_value());
  const auto static_sweep = policy_entries("static-sweep", scenario);
  ASSERT_EQ(static_sweep->size(), 11u);  // 2..12
  EXPECT_EQ(static_sweep->front().name, "static:2");
  for (const auto* spec : {"hpa-sweep", "kpa-sweep", "static-sweep", "hpa", "kpa", "static", "static:3"}) {
    const auto entries = policy_entries(spec, scenario);
    for (const auto& entry : *entries) EXPECT_EQ(entry.role, PolicyRole::kBaseline) << entry.name;
  }
  EXPECT_EQ(policy_entries("oracle", scenario)->front().name, "oracle-schedule");
  EXPECT_EQ(policy_entries("oracle", scenario)->front().role, PolicyRole::kOracleSchedule);
  const auto missing = policy_entries("ppo:/nonexistent/x.policy", scenario);
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("/nonexistent/x.policy"), std::string::npos);
  EXPECT_FALSE(policy_entries("magic", scenario).has_value());
  EXPECT_EQ(policy_entries("static:3", scenario)->front().name, "static:3");
}

TEST(KpaBaseline, TargetIsAShareOfAPodsCapacity) {
  const sim::ClusterConfig cluster;
  EXPECT_DOUBLE_EQ(kpa_config_for(cluster, 50).target_rps_per_pod, 0.5 * cluster.service.service_rate());
  EXPECT_DOUBLE_EQ(kpa_config_for(cluster).target_rps_per_pod, 0.7 * cluster.service.service_rate());
}

TEST(TrainedPolicy, APolicyFileIsEvaluatedThroughItsFeatureSet) {
  const auto path =
      std::filesystem::temp_directory_path() / ("maestro-eval-" + std::to_string(::getpid()) + ".policy");
  const auto file = nn::untrained_autoscaling_policy(
      core::FeatureSpec{core::FeatureSet::kExtended, 512.0 * 1024 * 1024}, 3);
  ASSERT_TRUE(nn::write_policy_file(path, file).has_value());
  const auto entries = policy_entries("ppo:" + path.string(), Scenario{});
  std::filesystem::remove(path);
  ASSERT_TRUE(entries.has_value()) << entries.error().message;
  ASSERT_EQ(entries->front().name, "ppo");
  const auto scenario = steady_scenario(300, 600);
  const std::vector<double> arrivals(600, 300.0);
  const auto run = [&] {
    auto autoscaler = entries->front().make(scenario, arrivals);
    std::vector<SeriesRow> series;
    run_once(scenario, arrivals, 1, *autoscaler, &series);
    std::vector<int> replicas;
    for (const auto& row : series) replicas.push_back(row.replicas);
    return replicas;
  };
  const auto first = run();
  EXPECT_EQ(first, run());  // deterministic actions
  for (int r : first) {
    EXPECT_GE(r, scenario.cluster.bounds.min);
    EXPECT_LE(r, scenario.cluster.bounds.max);
  }
}

TEST(FeaturePolicy, TurnsActionsIntoReplicasAsTheTrainingEnvDoes) {
  const auto scenario = steady_scenario(100, 400);
  const std::vector<double> arrivals(400, 100.0);
  // Always "scale up": one pod more every 15 s, from 2, until the bound.
  FeaturePolicyAutoscaler up(
      core::FeatureSpec{},
      [](std::span<const double> f) {
        EXPECT_EQ(f.size(), 5u);
        return 2;
      },
      core::original_action_set());
  std::vector<SeriesRow> series;
  run_once(scenario, arrivals, 1, up, &series);
  EXPECT_EQ(series[15].replicas, 3);
  EXPECT_EQ(series[199].replicas, 2 + 13);
  EXPECT_EQ(series[199].action, 2);
  EXPECT_EQ(series[399].replicas, scenario.cluster.bounds.max);
  EXPECT_EQ(series[399].action, 1);  // clamped: nothing changes
}

}  // namespace
}  // namespace maestro::eval
