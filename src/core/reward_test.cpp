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
