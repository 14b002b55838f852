// sim::Env: the rl::Env contract over the simulator — sizes, determinism, the action sets (the original
// unchanged, multi within bounds), the original reward with its termination over the hard constraint, the
// cost reward, the 200-step time limit and the cluster randomisation's ranges.
#include "sim/env.hpp"

#include <array>

#include <gtest/gtest.h>

namespace maestro::sim {
namespace {

// The seed's environment: original actions and reward.
EnvConfig steady_config(double rps) {
  EnvConfig config;
  config.actions = core::original_action_set();
  config.reward = *core::reward_from_name("original");
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
  config.actions.changes.pop_back();
  EXPECT_FALSE(validate(config).has_value());
  config = steady_config(100);
  config.reward = {core::RewardKind::kCost, {0, 0, 0}};
  EXPECT_FALSE(validate(config).has_value());
  config = steady_config(100);
  config.randomisation.capacity_scale_min = 0;
  EXPECT_FALSE(validate(config).has_value());
  config = steady_config(100);
  config.randomisation.chaos_probability = 1.5;
  EXPECT_FALSE(validate(config).has_value());
  config = steady_config(100);
  config.cluster.slo = {};
  EXPECT_FALSE(validate(config).has_value());
}

TEST(SimEnv, ActionsMoveReplicasByTheStepWithinBounds) {
  const core::ReplicaBounds bounds{1, 10};
  const auto two = core::original_action_set(2);
  const auto one = core::original_action_set();
  EXPECT_EQ(replicas_for_action(5, two, 0, bounds, {}, {}), 3);
  EXPECT_EQ(replicas_for_action(5, two, 1, bounds, {}, {}), 5);
  EXPECT_EQ(replicas_for_action(5, two, 2, bounds, {}, {}), 7);
  EXPECT_EQ(replicas_for_action(10, one, 2, bounds, {}, {}), 10);
  EXPECT_EQ(replicas_for_action(1, one, 0, bounds, {}, {}), 1);

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

TEST(SimEnv, MultiActionsMoveSeveralPodsAndStayWithinBounds) {
  const core::ReplicaBounds bounds{2, 12};
  const auto multi = core::multi_action_set();
  // −50%, −2, −1, 0, +1, +2, +50%, +100% from 6.
  const std::vector<int> from_six = {3, 4, 5, 6, 7, 8, 9, 12};
  for (int code = 0; code < multi.size(); ++code)
    EXPECT_EQ(replicas_for_action(6, multi, code, bounds, {}, {}), from_six[code]) << multi.names[code];
  for (int current = bounds.min; current <= bounds.max; ++current)
    for (int code = 0; code < multi.size(); ++code) {
      const int replicas = replicas_for_action(current, multi, code, bounds, {}, {});
      EXPECT_GE(replicas, bounds.min);
      EXPECT_LE(replicas, bounds.max);
    }

  auto config = steady_config(100);
  config.actions = multi;
  Env env(config);
  EXPECT_EQ(env.action_count(), 8);
  std::vector<double> obs(env.observation_size());
  env.reset(1, obs);
  env.step(7, obs);  // +100% of 4
  EXPECT_EQ(env.cluster().replicas(), 8);
  env.step(0, obs);  // −50%
  EXPECT_EQ(env.cluster().replicas(), 4);
  for (int i = 0; i < 5; ++i) env.step(7, obs);
  EXPECT_EQ(env.cluster().replicas(), config.cluster.bounds.max);
}

TEST(SimEnv, CostRewardPricesPodsViolationsAndActionsWithoutEndingTheEpisode) {
  auto config = steady_config(1000);
  config.reward = core::RewardSpec{};  // cost
  config.actions = core::multi_action_set();
  Env env(config);
  std::vector<double> obs(env.observation_size());
  env.reset(4, obs);
  // Overloaded at 4 pods (1000 requests/s for 400 requests/s of capacity): most requests over the SLO.
  const auto held = env.step(3, obs);
  EXPECT_FALSE(held.terminated);
  const int max = config.cluster.bounds.max;
  const double pods_term = 4.0 / max;  // four pods all interval
  const double slo = config.reward.weights.slo;
  EXPECT_LT(held.reward, -(pods_term + 0.9 * slo));
  EXPECT_GE(held.reward, -(pods_term + slo) - 1e-9);
  // Scaling to the ceiling costs an action, and the new pods are billed while they start.
  for (int i = 0; i < 3; ++i) env.step(7, obs);
  ASSERT_EQ(env.cluster().replicas(), max);
  rl::StepResult result;
  for (int i = 0; i < 20; ++i) result = env.step(3, obs);
  // At the ceiling, no action: −pods, and the tail of requests over 100 ms at half load (about 1 %).
  EXPECT_LT(result.reward, -1.0);
  EXPECT_GT(result.reward, -1.0 - 0.02 * slo);
  const auto down = env.step(2, obs);  // −1: one action, one pod fewer (draining is billed)
  EXPECT_LT(down.reward, result.reward + 1.0 / max - config.reward.weights.action + 0.01 * slo);
  int steps = 25;
  while (!result.truncated) {
    result = env.step(4, obs);
    ++steps;
  }
  EXPECT_EQ(steps, config.episode_steps);
}

TEST(SimEnv, ClusterRandomisationDrawsWithinItsRanges) {
  ClusterConfig base;
  base.chaos.restart_seconds = 7;
  ClusterRandomisation randomisation;
  randomisation.enabled = true;
  std::mt19937_64 rng(11);
  int chaotic = 0;
  std::array<int, 4> balancers{};
  constexpr int kDraws = 2000;
  for (int i = 0; i < kDraws; ++i) {
    const ClusterConfig drawn = draw_episode_cluster(base, randomisation, rng);
    ASSERT_TRUE(validate(drawn).has_value());
    EXPECT_GE(drawn.startup.median_seconds, randomisation.startup_seconds_min);
    EXPECT_LE(drawn.startup.median_seconds, randomisation.startup_seconds_max);
    const double capacity_scale =
        base.service.cpu_seconds_per_request / drawn.service.cpu_seconds_per_request;
    EXPECT_GE(capacity_scale, randomisation.capacity_scale_min - 1e-12);
    EXPECT_LE(capacity_scale, randomisation.capacity_scale_max + 1e-12);
    EXPECT_LE(drawn.chaos.pod_kills_per_hour, randomisation.pod_kills_per_hour_max);
    EXPECT_LE(drawn.chaos.stress_per_hour, randomisation.stress_per_hour_max);
    if (drawn.chaos.active()) {
      ++chaotic;
      EXPECT_EQ(drawn.chaos.restart_seconds, 7);
    }
    EXPECT_NE(drawn.balancer, Balancer::kPooled);
    ++balancers[static_cast<int>(drawn.balancer)];
    EXPECT_EQ(drawn.bounds.max, base.bounds.max);  // what the policy may do does not change
    EXPECT_EQ(drawn.slo.soft_ms, base.slo.soft_ms);
  }
  EXPECT_NEAR(double(chaotic) / kDraws, randomisation.chaos_probability, 0.04);
  for (int b = 0; b < 3; ++b) EXPECT_NEAR(double(balancers[b]) / kDraws, 1.0 / 3, 0.04);
  randomisation.enabled = false;
  const ClusterConfig same = draw_episode_cluster(base, randomisation, rng);
  EXPECT_EQ(same.startup.median_seconds, base.startup.median_seconds);
  EXPECT_EQ(same.service.cpu_seconds_per_request, base.service.cpu_seconds_per_request);
}

TEST(SimEnv, RandomisedEpisodesAreDeterministicPerSeedAndDiffer) {
  auto config = steady_config(300);
  config.randomisation.enabled = true;
  const auto run = [&](std::uint64_t seed) {
    Env env(config);
    std::vector<double> obs(env.observation_size()), all;
    env.reset(seed, obs);
    for (int i = 0; i < 40; ++i) {
      env.step(i % 3, obs);
      all.insert(all.end(), obs.begin(), obs.end());
    }
    all.push_back(env.cluster().config().startup.median_seconds);
    return all;
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

TEST(SimEnv, PolicyDescriptionNamesTheActionSetAndReward) {
  auto config = steady_config(100);
  config.actions = core::multi_action_set();
  config.reward = {core::RewardKind::kCost, {2, 20, 0.5}};
  const auto description = policy_description(config, "sim:steady", {{"synthetic:steady", 0, 3015}});
  EXPECT_EQ(description.action_set, "multi");
  EXPECT_EQ(description.action_names, core::multi_action_set().names);
  EXPECT_EQ(description.reward, "cost");
  EXPECT_EQ(description.reward_weights,
            (std::vector<std::pair<std::string, double>>{{"pods", 2}, {"slo", 20}, {"action", 0.5}}));
  EXPECT_EQ(description.training_data.size(), 1u);
  EXPECT_EQ(description.feature_set, "original");
}

}  // namespace
}  // namespace maestro::sim
