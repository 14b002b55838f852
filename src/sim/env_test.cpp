// sim::Env: the rl::Env contract over the simulator — sizes, determinism, the action encoding, the
// original reward, termination over the hard constraint and the 200-step time limit.
#include "sim/env.hpp"

#include <gtest/gtest.h>

namespace maestro::sim {
namespace {

EnvConfig steady_config(double rps) {
  EnvConfig config;
  traffic::ShapeSpec steady;
  steady.kind = traffic::ShapeKind::kSteady;
  steady.peak_rps = rps;
  config.traffic.shapes = {steady};
  config.traffic.peak_scale_min = config.traffic.peak_scale_max = 1;
  config.random_initial_replicas = false;
  config.cluster.initial_replicas = 4;
  return config;
}

TEST(SimEnv, SizesFollowTheFeatureSetAndTheOriginalActions) {
  auto config = steady_config(100);
  ASSERT_TRUE(validate(config).has_value());
  EXPECT_EQ(Env(config).observation_size(), 5u);
  EXPECT_EQ(Env(config).action_count(), 3);
  config.features.set = core::FeatureSet::kExtended;
  EXPECT_EQ(Env(config).observation_size(), 13u);
}

TEST(SimEnv, BadConfigurationIsRefused) {
  auto config = steady_config(100);
  config.traffic.shapes.clear();
  EXPECT_FALSE(validate(config).has_value());
  config = steady_config(100);
  config.action_step = 0;
  EXPECT_FALSE(validate(config).has_value());
  config = steady_config(100);
  config.cluster.slo = {};
  EXPECT_FALSE(validate(config).has_value());
}

TEST(SimEnv, ActionsMoveReplicasByTheStepWithinBounds) {
  const core::ReplicaBounds bounds{1, 10};
  EXPECT_EQ(replicas_for_action(5, 0, 2, bounds), 3);
  EXPECT_EQ(replicas_for_action(5, 1, 2, bounds), 5);
  EXPECT_EQ(replicas_for_action(5, 2, 2, bounds), 7);
  EXPECT_EQ(replicas_for_action(10, 2, 1, bounds), 10);
  EXPECT_EQ(replicas_for_action(1, 0, 1, bounds), 1);

  Env env(steady_config(100));
  std::vector<double> obs(env.observation_size());
  env.reset(1, obs);
  EXPECT_EQ(obs[2], 4);  // replicas
  env.step(2, obs);
  EXPECT_EQ(obs[2], 5);
  EXPECT_EQ(env.info()[0], (std::pair<std::string, double>{"replicas", 5}));
  env.step(0, obs);
  env.step(0, obs);
  EXPECT_EQ(env.cluster().replicas(), 3);
}

TEST(SimEnv, RewardIsTheOriginalOnTheReportedLatency) {
  Env env(steady_config(150));
  std::vector<double> obs(env.observation_size());
  env.reset(2, obs);
  const auto result = env.step(1, obs);
  const auto expected = core::compute_reward(4, env.config().cluster.bounds.max,
                                             env.last_observation().latency, env.config().cluster.slo);
  EXPECT_DOUBLE_EQ(result.reward, expected.value);
  EXPECT_EQ(obs[3], env.last_observation().latency);
  EXPECT_GT(obs[4], 100);  // about 150 rps served
}

TEST(SimEnv, EpisodesAreTruncatedAfter200StepsWhenTheServiceKeepsUp) {
  Env env(steady_config(100));
  std::vector<double> obs(env.observation_size());
  env.reset(3, obs);
  int steps = 0;
  rl::StepResult result;
  do {
    result = env.step(1, obs);
    ++steps;
  } while (!result.terminated && !result.truncated);
  EXPECT_EQ(steps, 200);
  EXPECT_TRUE(result.truncated);
  EXPECT_FALSE(result.terminated);
}

TEST(SimEnv, OverloadTerminatesTheEpisode) {
  Env env(steady_config(1000));
  std::vector<double> obs(env.observation_size());
  env.reset(4, obs);
  rl::StepResult result;
  int steps = 0;
  do {
    result = env.step(0, obs);  // keep scaling down under 1000 rps
    ++steps;
  } while (!result.terminated && !result.truncated);
  EXPECT_TRUE(result.terminated);
  EXPECT_LT(steps, 10);
  const int max = env.config().cluster.bounds.max;
  EXPECT_EQ(result.reward, 0.3 * (max - env.cluster().replicas()) / max - 0.7);
}

TEST(SimEnv, SameSeedSameEpisodeDifferentSeedDifferentTraffic) {
  auto config = steady_config(300);
  config.traffic.shapes[0].kind = traffic::ShapeKind::kNoise;
  config.traffic.shapes[0].noise = 0.3;
  config.traffic.peak_scale_min = 0.5;
  config.traffic.peak_scale_max = 1.5;
  config.random_initial_replicas = true;
  const auto run = [&](std::uint64_t seed) {
    Env env(config);
    std::vector<double> obs(env.observation_size()), all;
    env.reset(seed, obs);
    for (int i = 0; i < 50; ++i) {
      const auto r = env.step(i % 3, obs);
      all.insert(all.end(), obs.begin(), obs.end());
      all.push_back(r.reward);
    }
    return all;
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

}  // namespace
}  // namespace maestro::sim
