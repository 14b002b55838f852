// The frontier on hand-made points: Pareto filtering, interpolation (and where it does not reach),
// domination, the headline's numbers; and the confidence interval on known values.
#include "eval/frontier.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace maestro::eval {
namespace {

const std::vector<FrontierPoint> kPoints = {
    {"static:10", 0.00, 10}, {"static:6", 0.02, 6}, {"hpa-a", 0.05, 7},  // hpa-a: beaten by static:6
    {"hpa-b", 0.10, 4},      {"kpa-c", 0.10, 5},    {"static:2", 0.40, 2}, {"static:1", 0.60, 2}};

TEST(Frontier, KeepsOnlyPointsNothingBeatsOnBothAxes) {
  const auto frontier = pareto_frontier(kPoints);
  std::vector<std::string> names;
  for (const auto& point : frontier) names.push_back(point.name);
  EXPECT_EQ(names, (std::vector<std::string>{"static:10", "static:6", "hpa-b", "static:2"}));
  EXPECT_TRUE(pareto_frontier({}).empty());
}

TEST(Frontier, InterpolatesPiecewiseLinearlyAndDoesNotReachBelowItsBestShare) {
  const auto frontier = pareto_frontier(kPoints);
  EXPECT_DOUBLE_EQ(*frontier_pod_hours_at(frontier, 0.0), 10);
  EXPECT_DOUBLE_EQ(*frontier_pod_hours_at(frontier, 0.01), 8);
  EXPECT_DOUBLE_EQ(*frontier_pod_hours_at(frontier, 0.06), 5);
  EXPECT_DOUBLE_EQ(*frontier_pod_hours_at(frontier, 0.25), 3);
  EXPECT_DOUBLE_EQ(*frontier_pod_hours_at(frontier, 0.9), 2);  // flat beyond the last point
  const auto without_zero = pareto_frontier({{"a", 0.05, 5}, {"b", 0.2, 2}});
  EXPECT_FALSE(frontier_pod_hours_at(without_zero, 0.01).has_value());
  EXPECT_FALSE(frontier_pod_hours_at({}, 0.5).has_value());
}

TEST(Frontier, DominationIsAtLeastAsGoodOnBothAxes) {
  EXPECT_EQ(dominating_points(kPoints, {"p", 0.10, 4.5}), (std::vector<std::string>{"hpa-b"}));
  EXPECT_EQ(dominating_points(kPoints, {"p", 0.10, 4}), (std::vector<std::string>{"hpa-b"}));  // a tie
  EXPECT_TRUE(dominating_points(kPoints, {"p", 0.03, 5}).empty());
}

PolicyResult result(std::string name, PolicyRole role, double share, double pod_hours) {
  PolicyResult policy;
  policy.name = std::move(name);
  policy.role = role;
  policy.share_over_soft.mean = share;
  policy.pod_hours.mean = pod_hours;
  return policy;
}

TEST(Frontier, HeadlineForEachLearnedPolicyThenEachOracleSchedule) {
  Evaluation evaluation;
  evaluation.policies = {result("hpa", PolicyRole::kBaseline, 0.05, 10),
                         result("static:8", PolicyRole::kBaseline, 0.0, 16),
                         result("oracle-schedule", PolicyRole::kOracleSchedule, 0.0, 1),
                         result("ppo", PolicyRole::kEvaluated, 0.025, 9.1),
                         result("ppo-greedy", PolicyRole::kEvaluated, 0.06, 12),
                         result("ppo-perfect", PolicyRole::kEvaluated, -0.0, 4)};
  evaluation.oracle.summary.mean = 5;
  const auto summary = summarise_frontier(evaluation);
  ASSERT_EQ(summary.baselines.size(), 2u);
  ASSERT_EQ(summary.headlines.size(), 4u);
  const auto& ppo = summary.headlines[0];
  EXPECT_EQ(ppo.role, PolicyRole::kEvaluated);
  EXPECT_DOUBLE_EQ(*ppo.frontier_pod_hours, 13);  // halfway between 16 and 10
  EXPECT_NEAR(*ppo.saved_fraction, 1 - 9.1 / 13, 1e-12);
  EXPECT_TRUE(ppo.dominated_by.empty());
  EXPECT_DOUBLE_EQ(ppo.oracle_ratio, 9.1 / 5);
  EXPECT_EQ(summary.headlines[1].dominated_by, (std::vector<std::string>{"hpa"}));
  EXPECT_LT(*summary.headlines[1].saved_fraction, 0);
  EXPECT_DOUBLE_EQ(*summary.headlines[2].saved_fraction, 0.75);
  // Foresight, judged the same way, after the policies: the frontier's 16 at share 0 against its 1.
  const auto& oracle = summary.headlines[3];
  EXPECT_EQ(oracle.policy, "oracle-schedule");
  EXPECT_EQ(oracle.role, PolicyRole::kOracleSchedule);
  EXPECT_DOUBLE_EQ(*oracle.saved_fraction, 1 - 1.0 / 16);
}

TEST(ConfidenceInterval, StudentTOverSeeds) {
  // 1, 2, 3, 4, 5: mean 3, s.d. √2.5, t(0.975, 4) = 2.776.
  const auto spread = spread_of({1, 2, 3, 4, 5});
  EXPECT_DOUBLE_EQ(spread.mean, 3);
  EXPECT_NEAR(spread.sd, 1.5811388, 1e-6);
  EXPECT_NEAR(spread.ci95, 2.776 * 1.5811388 / std::sqrt(5.0), 1e-6);
  EXPECT_EQ(spread_of({7}).ci95, 0);
  EXPECT_DOUBLE_EQ(student_t_975(1), 12.706);
  EXPECT_DOUBLE_EQ(student_t_975(30), 2.042);
  EXPECT_NEAR(student_t_975(60), 2.000, 0.002);
  EXPECT_NEAR(student_t_975(120), 1.980, 0.002);
}

}  // namespace
}  // namespace maestro::eval
