// Demonstrations of foresight: one row of features per 15-second decision, labelled with the action that
// comes nearest to the oracle's schedule — so the labels scale up before a flash crowd arrives (the
// schedule knows it is coming); with a learner, the run goes where the learner takes it and is still
// labelled with the schedule's actions.
#include "eval/imitation.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "eval/test_scenarios.hpp"
#include "sim/env.hpp"

namespace maestro::eval {
namespace {

TEST(Imitation, LabelsEachDecisionWithTheActionNearestTheSchedule) {
  const auto scenario = testing::flash_crowd(900);
  const auto arrivals = scenario_arrivals(scenario, 1);
  const core::FeatureSpec features{core::FeatureSet::kLong};
  const auto actions = core::multi_action_set();
  Demonstrations shown;
  CloningOptions prices;
  prices.violation_price = 1.0;
  demonstrate(scenario, arrivals, 1, features, actions, prices, shown);
  ASSERT_EQ(shown.actions.size(), 1800u / 15 - 1);  // at 15, 30, …, 1785 s
  EXPECT_EQ(shown.features.size(), shown.actions.size() * shown.feature_size);
  EXPECT_EQ(shown.feature_size, core::FeatureBuilder(features).size());
  // The first scale-up comes before the crowd: the schedule starts pods ahead of it.
  const auto hold = std::distance(
      actions.changes.begin(), std::ranges::find_if(actions.changes, [](const core::ReplicaChange& change) {
        return change.amount == 0;
      }));
  const auto first_change = std::ranges::find_if(shown.actions, [&](int a) { return a != hold; });
  ASSERT_NE(first_change, shown.actions.end());
  const auto at = 15 * (std::distance(shown.actions.begin(), first_change) + 1);
  EXPECT_LT(at, 900);
  EXPECT_GE(at, 900 - 120);
  const auto grows = [&](int a) {
    return sim::replicas_for_action(5, actions, a, scenario.cluster.bounds, core::Observation{},
                                    scenario.cluster) > 5;
  };
  EXPECT_TRUE(grows(*first_change));

  // A learner that always holds: its run never scales, yet it is told to scale up at the crowd.
  Demonstrations labelled;
  demonstrate(scenario, arrivals, 1, features, actions, prices, labelled,
              [&](std::span<const double>) { return static_cast<int>(hold); });
  ASSERT_EQ(labelled.actions.size(), shown.actions.size());
  EXPECT_TRUE(std::ranges::any_of(labelled.actions, grows));
  EXPECT_NE(labelled.features, shown.features);  // other states: the learner's
}

}  // namespace
}  // namespace maestro::eval
