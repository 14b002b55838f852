#include "live/env.hpp"

#include <gtest/gtest.h>

#include <mutex>

namespace maestro::live {
namespace {

using namespace std::chrono_literals;
using System = std::chrono::system_clock;

// A deployment whose pods become ready at once.
class FakeDeployment final : public DeploymentApi {
 public:
  Result<DeploymentState> get(const std::string&, const std::string&) override {
    if (broken) return fail("the API is down");
    return DeploymentState{
        replicas, replicas, {{"latencySoftConstraint", "100"}, {"latencyHardConstraint", "500"}}};
  }
  Result<int> scale(const std::string&, const std::string&, int to) override {
    ++writes;
    return std::exchange(replicas, to);
  }
  int replicas = 2;
  int writes = 0;
  bool broken = false;
};

// Prometheus as the StateBuilder and the env ask it: fresh samples, one series per pod, a p95 and a
// histogram where `slow_share` of the requests are over 100 ms.
class FakeMetrics final : public prom::MetricsSource {
 public:
  explicit FakeMetrics(const FakeDeployment& deployment) : deployment_(deployment) {}

  prom::QueryResult<double> value(std::string_view promql) override {
    std::lock_guard lock(mutex_);
    if (down) return unreachable();
    if (promql.starts_with("max(")) return 0.0;  // the stalest pod's newest sample: just scraped
    if (promql.find("histogram_quantile") != std::string_view::npos) return latency_ms;
    if (promql.find("memory") != std::string_view::npos) return 50e6;
    if (promql.find("cpu") != std::string_view::npos) return 40.0;
    return 100.0;  // rps
  }
  prom::QueryResult<std::vector<prom::Sample>> samples(std::string_view promql) override {
    std::lock_guard lock(mutex_);
    if (down) return std::unexpected(unreachable().error());
    if (promql.find("by (le)") != std::string_view::npos)
      return std::vector<prom::Sample>{{{{"le", "0.1"}}, 0, 100 * (1 - slow_share)},
                                       {{{"le", "+Inf"}}, 0, 100}};
    std::vector<prom::Sample> pods;
    for (int i = 0; i < deployment_.replicas; ++i)
      pods.push_back({{{"pod", "web-" + std::to_string(i)}}, 0, 0.1});
    return pods;
  }

  bool down = false;
  double latency_ms = 20;
  double slow_share = 0;

 private:
  static prom::QueryResult<double> unreachable() {
    prom::QueryError error;
    error.message = "Prometheus unreachable";
    error.kind = prom::QueryErrorKind::kUnreachable;
    return std::unexpected(error);
  }
  const FakeDeployment& deployment_;
  std::mutex mutex_;
};

class FakeChaos final : public ChaosSource {
 public:
  Result<void> apply(const std::string& yaml) override {
    applied.push_back(yaml);
    return {};
  }
  Result<std::vector<Fault>> faults(const std::string&, const std::string&) override { return injected; }
  std::vector<std::string> applied;
  std::vector<Fault> injected;
};

EnvConfig config() {
  EnvConfig c;
  c.deployment = "web";
  c.features = {core::FeatureSet::kExtended, 128e6};
  c.actions = core::multi_action_set();  // −50%, −2, −1, 0, +1, +2, +50%, +100%
  c.reward = *core::reward_from_name("cost");
  c.bounds = {1, 4};
  c.interval = 20ms;
  c.window = 1s;
  c.metrics_wait = 200ms;
  c.episode_steps = 3;
  c.chaos_spec = "kind: Schedule";
  return *validate(c);
}

double info(const Env& env, const std::string& key) {
  for (const auto& [name, value] : env.info())
    if (name == key) return value;
  return -1;
}

TEST(LiveEnv, ScalesThroughTheApiWithinBoundsAndTruncatesAtTheEpisodesEnd) {
  FakeDeployment deployment;
  FakeMetrics metrics(deployment);
  Env env(config(), deployment, metrics, nullptr);
  std::vector<double> observation(env.observation_size());
  env.reset(0, observation);
  EXPECT_EQ(observation[2], 2);            // replicas
  auto result = env.step(7, observation);  // +100%: 4, the bound
  EXPECT_EQ(deployment.replicas, 4);
  EXPECT_FALSE(result.truncated);
  result = env.step(7, observation);  // at the bound: nothing written
  EXPECT_EQ(deployment.writes, 1);
  EXPECT_EQ(deployment.replicas, 4);
  result = env.step(0, observation);  // −50%
  EXPECT_EQ(deployment.replicas, 2);
  EXPECT_TRUE(result.truncated);
  EXPECT_EQ(info(env, "fault"), 0);
}

TEST(LiveEnv, AFaultIsNoObservationTheEpisodeEndsOnTheLastMeasuredOne) {
  FakeDeployment deployment;
  FakeMetrics metrics(deployment);
  Env env(config(), deployment, metrics, nullptr);
  std::vector<double> observation(env.observation_size());
  env.reset(0, observation);
  env.step(3, observation);
  const auto measured = observation;
  metrics.down = true;
  std::vector<double> next(env.observation_size(), -1);
  const auto result = env.step(4, next);  // +1: scaled, then nothing can be read
  EXPECT_TRUE(result.truncated);
  EXPECT_FALSE(result.terminated);
  EXPECT_EQ(next, measured);
  EXPECT_EQ(info(env, "fault"), 1);
  EXPECT_NE(env.last_fault().find("unreachable"), std::string::npos) << env.last_fault();
  // Only what needs no metrics: 3 pods of 4 for the interval, and one action.
  const auto weights = core::CostWeights{};
  EXPECT_NEAR(result.reward, -(weights.pods * 3.0 / 4 + weights.action), 1e-9);

  metrics.down = false;
  deployment.broken = true;
  const auto api_fault = env.step(3, next);
  EXPECT_TRUE(api_fault.truncated);
  EXPECT_NE(env.last_fault().find("the API is down"), std::string::npos) << env.last_fault();
}

TEST(LiveEnv, ChaosIsNotChargedToTheAgent) {
  FakeDeployment deployment;
  FakeMetrics metrics(deployment);
  FakeChaos chaos;
  Env env(config(), deployment, metrics, &chaos);
  std::vector<double> observation(env.observation_size());
  env.reset(0, observation);
  ASSERT_EQ(chaos.applied.size(), 1u);  // the schedule, at the first episode
  metrics.slow_share = 0.5;
  metrics.latency_ms = 400;
  const auto charged = env.step(3, observation);
  EXPECT_EQ(info(env, "excused"), 0);
  EXPECT_NEAR(charged.reward, -(2.0 / 4 + 10 * 0.5), 1e-9);

  // A stress now: the step's window saw it, its SLO term is not the agent's.
  chaos.injected.push_back({"StressChaos", "web-0", System::now(), System::now() + 10ms});
  const auto excused = env.step(3, observation);
  EXPECT_EQ(info(env, "excused"), 1);
  EXPECT_NEAR(excused.reward, -(2.0 / 4), 1e-9);
  env.reset(0, observation);
  EXPECT_EQ(chaos.applied.size(), 1u);  // applied once
}

TEST(LiveEnv, AKilledPodExcusesStepsUntilTheDeploymentRecoversAndOneWindowAfter) {
  FakeDeployment deployment;
  FakeMetrics metrics(deployment);
  FakeChaos chaos;
  auto c = config();
  c.window = 1s;
  c.episode_steps = 100;
  c.reward = *core::reward_from_name("original");
  Env env(c, deployment, metrics, &chaos);
  std::vector<double> observation(env.observation_size());
  env.reset(0, observation);
  metrics.latency_ms = 600;  // over the hard constraint: the original reward would end the episode
  chaos.injected.push_back({"PodChaos", "web-1", System::now(), System::now()});
  const auto during = env.step(3, observation);
  EXPECT_EQ(info(env, "excused"), 1);
  EXPECT_FALSE(during.terminated);
  // Recovered (the fake's pods are all ready): the next steps within one window are still excused.
  EXPECT_FALSE(env.step(3, observation).terminated);
  EXPECT_EQ(info(env, "excused"), 1);
}

}  // namespace
}  // namespace maestro::live
