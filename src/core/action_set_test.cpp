#include "core/action_set.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace maestro::core {
namespace {

TEST(ActionSet, OriginalIsTheSeedsEncoding) {
  const ActionSet set = original_action_set();
  EXPECT_EQ(set.name, "original");
  EXPECT_EQ(set.names, (std::vector<std::string>{"scale_down", "hold", "scale_up"}));
  EXPECT_EQ(replicas_after(set, 0, 3), 2);
  EXPECT_EQ(replicas_after(set, 1, 3), 3);
  EXPECT_EQ(replicas_after(set, 2, 3), 4);
  EXPECT_EQ(replicas_after(original_action_set(2), 2, 3), 5);
  EXPECT_EQ(replicas_after(set, 3, 3), std::nullopt);
  EXPECT_EQ(replicas_after(set, -1, 3), std::nullopt);
}

TEST(ActionSet, MultiMovesPodsAndShares) {
  const ActionSet set = multi_action_set();
  EXPECT_EQ(set.names, (std::vector<std::string>{"-50%", "-2", "-1", "0", "+1", "+2", "+50%", "+100%"}));
  std::vector<int> from_five, from_one;
  for (int code = 0; code < set.size(); ++code) {
    from_five.push_back(*replicas_after(set, code, 5));
    from_one.push_back(*replicas_after(set, code, 1));
  }
  EXPECT_EQ(from_five, (std::vector<int>{2, 3, 4, 5, 6, 7, 8, 10}));
  EXPECT_EQ(from_one, (std::vector<int>{0, 0, 0, 1, 2, 3, 2, 2}));
}

TEST(ActionSet, TargetsSizeTheDeploymentAsTheHpaWould) {
  const ActionSet set = targets_action_set();
  EXPECT_EQ(set.names, (std::vector<std::string>{"hold", "target-30%", "target-40%", "target-50%",
                                                 "target-60%", "target-70%", "target-80%", "target-90%"}));
  EXPECT_TRUE(set.needs_cpu());
  EXPECT_FALSE(multi_action_set().needs_cpu());
  const int target_60 = 4;
  // 3 cores used, 0.5 requested per pod: 60 % of request is 0.3 cores a pod, so 10 pods.
  const CpuBasis cpu{.usage_percent = 300, .request_cores = 0.5};
  EXPECT_EQ(replicas_after(set, target_60, 5, cpu), 10);
  EXPECT_EQ(replicas_after(set, target_60, 10, cpu), 10);
  EXPECT_EQ(replicas_after(set, target_60, 9, cpu), 10);   // 11 % over the target: beyond the tolerance
  EXPECT_EQ(replicas_after(set, target_60, 11, cpu), 11);  // 9 % under: within it, held
  EXPECT_EQ(replicas_after(set, target_60, 12, cpu), 10);
  EXPECT_EQ(replicas_after(set, 5, 5, cpu), 9);  // 70 %: 8.6 pods, rounded up
  EXPECT_EQ(replicas_after(set, target_60, 4, CpuBasis{.usage_percent = 0, .request_cores = 0.5}), 0);
  EXPECT_EQ(replicas_after(set, 0, 5, cpu), 5);  // hold
  EXPECT_EQ(replicas_after(set, 0, 5), 5);       // hold needs no CPU
  // Without what the target is a share of, there is no answer (never a guess).
  EXPECT_EQ(replicas_after(set, target_60, 5), std::nullopt);
  EXPECT_EQ(replicas_after(set, target_60, 5, CpuBasis{.usage_percent = 300, .request_cores = 0}),
            std::nullopt);
}

TEST(ActionSet, ByName) {
  EXPECT_EQ(*action_set_from_name("multi"), multi_action_set());
  EXPECT_EQ(*action_set_from_name("original"), original_action_set());
  EXPECT_EQ(*action_set_from_name("targets"), targets_action_set());
  const auto unknown = action_set_from_name("wild");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message.find("known: original, multi, targets"), std::string::npos);
}

RC_GTEST_PROP(ActionSet, ChangesMoveTheWayTheySayAndNeverBelowZero, ()) {
  const int current = *rc::gen::inRange(0, 500);
  const ActionSet set = multi_action_set();
  for (int code = 0; code < set.size(); ++code) {
    const int after = *replicas_after(set, code, current);
    const double amount = set.changes[static_cast<std::size_t>(code)].amount;
    RC_ASSERT(after >= 0);
    if (amount > 0) RC_ASSERT(after > current);
    if (amount == 0) RC_ASSERT(after == current);
    if (amount < 0) RC_ASSERT(after < current || current == 0);
  }
}

}  // namespace
}  // namespace maestro::core
