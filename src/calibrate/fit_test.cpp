// Calibration's fitting on synthetic measurements (no processes): measurements made by a known simulator
// configuration are fitted back to the same p95 and CPU, a fit keeps what was measured directly, the
// measurements survive JSON, and measurements that cannot be fitted are refused.
#include "calibrate/fit.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace maestro::calibrate {
namespace {

// A "real" deployment the fit does not know: 0.5-core pods that get 0.3 cores when busy, 5 ms of CPU a
// request with a log-normal spread of 0.5, 8 ms of base latency.
sim::ClusterConfig hidden_truth() {
  sim::ClusterConfig config;
  config.service.cpu_limit_cores = config.service.cpu_request_cores = 0.5;
  config.service.service_cores = 0.3;
  config.service.cpu_seconds_per_request = 0.005;
  config.service.idle_cpu_cores = 0.001;
  config.service.service_time = sim::ServiceTimeDistribution::kLogNormal;
  config.service.service_time_cv = 0.5;
  config.service.base_latency_ms = 8;
  config.warmup.seconds = 0;
  return config;
}

Measurements measured_from(const sim::ClusterConfig& truth) {
  Measurements m;
  m.deployment = "default/target-app";
  m.cpu_limit_cores = truth.service.cpu_limit_cores;
  m.cpu_seconds_per_request = truth.service.cpu_seconds_per_request;
  m.idle_cpu_cores = truth.service.idle_cpu_cores;
  m.capacity_rps_per_pod = simulated_capacity(truth);
  m.capacity_trials = {m.capacity_rps_per_pod};
  m.startup_seconds = 1.1;
  m.startup_trials = {1.0, 1.1, 1.3};
  for (const int pods : {1, 2})
    for (const double fraction : {0.2, 0.4, 0.6, 0.8}) {
      const double rps = fraction * m.capacity_rps_per_pod * pods;
      const auto level = simulate_level(truth, rps, pods);
      m.levels.push_back({fraction, pods, rps, 0, level.p95_ms, level.cpu_cores, 0});
    }
  return m;
}

TEST(CalibrationFit, RecoversTheSimulatorThatMadeTheMeasurements) {
  const auto truth = hidden_truth();
  const auto m = measured_from(truth);
  const auto fit = fit_cluster(m);
  ASSERT_TRUE(fit.has_value()) << fit.error().message;
  EXPECT_LT(fit->rms_log_error, 0.02);
  for (const auto& level : m.levels) {
    const auto simulated = simulate_level(fit->cluster, level.rps, level.pods);
    EXPECT_NEAR(simulated.p95_ms / level.p95_ms, 1, 0.03) << level.pods << " pods at " << level.fraction;
    EXPECT_NEAR(simulated.cpu_cores / level.cpu_cores, 1, 1e-9);
  }
  EXPECT_NEAR(simulated_capacity(fit->cluster) / m.capacity_rps_per_pod, 1, 0.03);
  // On the grid it searches, the parameters themselves come back.
  EXPECT_NEAR(fit->cluster.service.service_cores, 0.3, 0.0125 + 1e-9);
  EXPECT_EQ(fit->cluster.service.service_time_cv, 0.5);
  EXPECT_NEAR(fit->cluster.service.base_latency_ms, 8, 0.5);
  // What was measured directly is kept as it was.
  EXPECT_EQ(fit->cluster.service.cpu_limit_cores, 0.5);
  EXPECT_EQ(fit->cluster.service.cpu_seconds_per_request, 0.005);
  EXPECT_EQ(fit->cluster.startup.median_seconds, 1.1);
  EXPECT_EQ(fit->cluster.warmup.seconds, 0);
}

TEST(CalibrationFit, ANoisyMeasurementMovesTheFitLittle) {
  auto m = measured_from(hidden_truth());
  m.levels[2].p95_ms *= 1.6;  // one run on a busy machine
  const auto fit = fit_cluster(m);
  ASSERT_TRUE(fit.has_value());
  int close = 0;
  for (const auto& level : m.levels)
    close += std::abs(simulate_level(fit->cluster, level.rps, level.pods).p95_ms / level.p95_ms - 1) < 0.25;
  EXPECT_GE(close, static_cast<int>(m.levels.size()) - 1);
}

TEST(CalibrationFit, MeasurementsSurviveJsonAndTheScenarioSaysWhereItsNumbersCameFrom) {
  const auto m = measured_from(hidden_truth());
  const nlohmann::json json = m;
  const auto back = json.get<Measurements>();
  EXPECT_EQ(nlohmann::json(back), json);
  const auto fit = fit_cluster(m);
  ASSERT_TRUE(fit.has_value());
  const auto yaml = scenario_yaml(m, *fit, 40, 600, "maestro calibrate --out x.yaml");
  EXPECT_NE(yaml.find("# Written by `maestro calibrate --out x.yaml`"), std::string::npos);
  EXPECT_NE(yaml.find("cpu_seconds_per_request: 0.00500"), std::string::npos);
  EXPECT_NE(yaml.find("service_time: lognormal"), std::string::npos);
  EXPECT_NE(yaml.find("service_cores:"), std::string::npos);
  EXPECT_NE(yaml.find("#       2   80%"), std::string::npos) << yaml;  // the table, as comments
}

TEST(CalibrationFit, RefusesWhatCannotBeFitted) {
  auto m = measured_from(hidden_truth());
  m.levels.clear();
  EXPECT_FALSE(fit_cluster(m).has_value());
  m = measured_from(hidden_truth());
  m.cpu_seconds_per_request = 0;
  EXPECT_FALSE(fit_cluster(m).has_value());
  m = measured_from(hidden_truth());
  m.levels[0].p95_ms = 0;
  EXPECT_FALSE(fit_cluster(m).has_value());
}

}  // namespace
}  // namespace maestro::calibrate
