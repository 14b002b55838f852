// The recipe's choice: what a run costs as the cost reward prices it, and the cheapest seed kept.
#include "eval/training.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace maestro::eval
