// The recipe's choice: what a run costs as the cost reward prices it, and the cheapest seed kept.
#include "eval/training.hpp"

#include <gtest/gtest.h>

#include "rl/cartpole.hpp"

namespace maestro::eval {
namespace {

TEST(RunCost, PricesPodsTheShareOverTheSloAndActionsPerInterval) {
  Scenario scenario;
  scenario.duration_seconds = 3600;
  scenario.cluster.bounds = {1, 20};
  RunScore run;
  run.pod_hours = 5;  // 5 pods all hour: a quarter of the ceiling
  run.share_over_soft = 0.01;
  run.scaling_actions = 24;  // one action every 10 intervals
  const core::CostWeights weights{1, 10, 0.05};
  EXPECT_DOUBLE_EQ(run_cost(run, scenario, weights), 0.25 + 0.1 + 0.05 * 24 / 240.0);
  run.share_over_soft = 3;  // a share: at most everything
  EXPECT_DOUBLE_EQ(run_cost(run, scenario, weights), 0.25 + 10 + 0.005);
}

TEST(RunCost, TheCheapestOnValidationIsKeptTheFirstOfEquals) {
  std::vector<TrainedSeed> trained(4);
  for (std::size_t i = 0; i < trained.size(); ++i) trained[i].seed = i;
  trained[0].validation_cost = 0.5;
  trained[1].validation_cost = 0.3;
  trained[2].validation_cost = 0.3;
  trained[3].validation_cost = 0.4;
  EXPECT_EQ(best_on_validation(trained), 1u);
}

TEST(TrainSeeds, SideBySideGivesEachSeedTheSamePolicyAsOneAfterAnother) {
  rl::PpoConfig ppo;
  ppo.n_envs = 2;
  ppo.n_steps = 64;
  ppo.batch_size = 64;
  ppo.n_epochs = 2;
  const rl::PolicyDescription description{"cartpole", "cartpole", 0, "cartpole", {"push_left", "push_right"},
                                          "cartpole", {},         {}};
  const EnvFactory make = [] { return std::make_unique<rl::CartPole>(); };
  const std::vector<std::uint64_t> seeds = {7, 8, 9};
  const base::ManualClock clock;
  const auto train = [&](int parallel) {
    return train_seeds(ppo, description, make, 512, seeds, {}, 0, {}, {}, clock, parallel);
  };
  const auto one_after_another = train(1);
  const auto side_by_side = train(2);
  ASSERT_TRUE(one_after_another.has_value()) << one_after_another.error().message;
  ASSERT_TRUE(side_by_side.has_value()) << side_by_side.error().message;
  ASSERT_EQ(side_by_side->size(), seeds.size());
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    EXPECT_EQ((*side_by_side)[i].seed, seeds[i]);  // in the order asked for
    EXPECT_TRUE((*side_by_side)[i].policy == (*one_after_another)[i].policy) << "seed " << seeds[i];
  }
  EXPECT_FALSE((*side_by_side)[0].policy == (*side_by_side)[1].policy);  // the seeds differ
}

}  // namespace
}  // namespace maestro::eval
