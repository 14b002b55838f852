#include "core/reward.hpp"

#include <gtest/gtest.h>

namespace maestro::core {
namespace {

struct RewardCase {
  const char* name;
  int replicas;
  int max_replicas;
  double latency_ms;
  LatencyConstraints constraints;
  double expected_latency_term;
  bool expected_terminated;
};

void PrintTo(const RewardCase& c, std::ostream* os) {
  *os << c.name;
}

class RewardTable : public testing::TestWithParam<RewardCase> {};

TEST_P(RewardTable, MatchesTheOriginalFormula) {
  const RewardCase& c = GetParam();
  ASSERT_TRUE(validate(c.constraints).has_value());
  const Reward reward = compute_reward(c.replicas, c.max_replicas, c.latency_ms, c.constraints);
  const double replica_term = static_cast<double>(c.max_replicas - c.replicas) / c.max_replicas;
  EXPECT_DOUBLE_EQ(reward.replica_term, replica_term);
  EXPECT_DOUBLE_EQ(reward.latency_term, c.expected_latency_term);
  EXPECT_EQ(reward.terminated, c.expected_terminated);
  EXPECT_DOUBLE_EQ(reward.value, 0.3 * replica_term + 0.7 * c.expected_latency_term);
}

const LatencyConstraints kSoft100Hard300{100.0, 300.0};

INSTANTIATE_TEST_SUITE_P(
    EveryBranch, RewardTable,
    testing::Values(RewardCase{"under_soft", 3, 10, 50, kSoft100Hard300, 1.0, false},
                    RewardCase{"at_soft", 3, 10, 100, kSoft100Hard300, 1.0, false},
                    RewardCase{"between_quarter", 5, 10, 150, kSoft100Hard300, 0.75, false},
                    RewardCase{"between_three_quarters", 1, 4, 250, kSoft100Hard300, 0.25, false},
                    RewardCase{"at_hard", 2, 10, 300, kSoft100Hard300, 0.0, false},
                    RewardCase{"over_hard_terminates", 10, 10, 300.5, kSoft100Hard300, -1.0, true},
                    RewardCase{"constraints_unset", 4, 10, 5000, LatencyConstraints{}, 0.0, false},
                    RewardCase{"all_replicas_used", 10, 10, 10, kSoft100Hard300, 1.0, false}),
    [](const testing::TestParamInfo<RewardCase>& info) { return info.param.name; });

TEST(RewardConstraints, SoftAtOrAboveHardIsRejected) {
  EXPECT_FALSE(validate(LatencyConstraints{300.0, 300.0}).has_value());
  const auto above = validate(LatencyConstraints{400.0, 300.0});
  ASSERT_FALSE(above.has_value());
  EXPECT_NE(above.error().message.find("below hard"), std::string::npos);
}

TEST(RewardConstraints, OnlyOneSetIsRejected) {
  EXPECT_FALSE(validate(LatencyConstraints{100.0, std::nullopt}).has_value());
  EXPECT_FALSE(validate(LatencyConstraints{std::nullopt, 100.0}).has_value());
}

TEST(RewardConstraints, NonPositiveOrNanIsRejected) {
  EXPECT_FALSE(validate(LatencyConstraints{0.0, 100.0}).has_value());
  EXPECT_FALSE(validate(LatencyConstraints{std::nan(""), 100.0}).has_value());
}

}  // namespace
}  // namespace maestro::core

namespace maestro::core {
namespace {

TEST(RewardByName, KnownNamesAndTheirRecordedWeights) {
  EXPECT_EQ(reward_from_name("original")->kind, RewardKind::kOriginal);
  const auto cost = reward_from_name("cost");
  ASSERT_TRUE(cost.has_value());
  EXPECT_EQ(cost->kind, RewardKind::kCost);
  EXPECT_EQ(RewardSpec{}, *cost);  // cost is the default
  EXPECT_EQ(reward_weights(*reward_from_name("original")),
            (std::vector<std::pair<std::string, double>>{{"replicas", 0.3}, {"latency", 0.7}}));
  EXPECT_EQ(reward_weights(*cost),
            (std::vector<std::pair<std::string, double>>{{"pods", 1}, {"slo", 10}, {"action", 0.5}}));
  const auto unknown = reward_from_name("profit");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message.find("original, cost"), std::string::npos);
}

TEST(RewardByName, WeightsParseOverTheDefaultsAndBadOnesAreRefused) {
  const auto spec = apply_reward_weights(*reward_from_name("cost"), "slo=20,action=0.25");
  ASSERT_TRUE(spec.has_value()) << spec.error().message;
  EXPECT_EQ(spec->weights, (CostWeights{1, 20, 0.25}));
  EXPECT_EQ(apply_reward_weights(RewardSpec{}, "")->weights, CostWeights{});
  for (const char* bad :
       {"slo", "slo=x", "slo=1x", "profit=1", "pods=-1", "pods=0,slo=0,action=0", "pods=nan"})
    EXPECT_FALSE(apply_reward_weights(RewardSpec{}, bad).has_value()) << bad;
  const auto original = apply_reward_weights(*reward_from_name("original"), "pods=1");
  ASSERT_FALSE(original.has_value());
  EXPECT_NE(original.error().message.find("fixed"), std::string::npos);
}

TEST(RewardByName, TheRecordRoundTripsAndIsChecked) {
  const RewardSpec spec{RewardKind::kCost, {2, 30, 0.25}};
  const auto weights = reward_weights(spec);
  EXPECT_EQ(reward_from_record("cost", weights), spec);
  const auto original = reward_weights(*reward_from_name("original"));
  EXPECT_EQ(reward_from_record("original", original)->kind, RewardKind::kOriginal);
  EXPECT_FALSE(reward_from_record("original", weights).has_value());
  EXPECT_FALSE(reward_from_record("cost", original).has_value());
  EXPECT_FALSE(reward_from_record("cost", std::span(weights).first(2)).has_value());
}

TEST(CostReward, PricesPodsViolationsAndActions) {
  const CostWeights weights{1, 10, 0.1};
  // 5 pods for a 15 s interval of a 1..20 deployment, 2 % of requests over the SLO, one scaling action.
  const auto reward = compute_cost_reward({5 * 15.0, 15, 20, 0.02, true}, weights);
  EXPECT_DOUBLE_EQ(reward.pods_term, 0.25);
  EXPECT_DOUBLE_EQ(reward.slo_term, 0.2);
  EXPECT_DOUBLE_EQ(reward.action_term, 0.1);
  EXPECT_DOUBLE_EQ(reward.value, -0.55);
  const auto quiet = compute_cost_reward({5 * 15.0, 15, 20, 0, false}, weights);
  EXPECT_DOUBLE_EQ(quiet.value, -0.25);
  // The share is a share: clamped to [0, 1].
  EXPECT_DOUBLE_EQ(compute_cost_reward({0, 15, 20, 1.5, false}, weights).slo_term, 10);
}

TEST(CostReward, TheDefaultScaleOrdersSloThenPodsThenActions) {
  const CostWeights weights;
  const auto at = [&](int pods, double share, bool scaled) {
    return compute_cost_reward({pods * 15.0, 15, 20, share, scaled}, weights).value;
  };
  // One percent of requests over the SLO costs more than a pod; an action costs ten pods for one interval.
  EXPECT_LT(at(5, 0.01, false), at(6, 0, false));
  EXPECT_DOUBLE_EQ(weights.action, 10 * (at(5, 0, false) - at(6, 0, false)));
  // An action costs what 5 % of the requests over the SLO for one interval cost.
  EXPECT_DOUBLE_EQ(at(5, 0, true), at(5, 0.05, false));
  // The ceiling costs more than 5 % of the requests over the SLO at 3 pods.
  EXPECT_LT(at(20, 0, false), at(3, 0.05, false));
  // Never positive, whatever happens: no reward for doing nothing.
  EXPECT_LE(at(0, 0, false), 0);
}

}  // namespace
}  // namespace maestro::core
