// The controller's pure decision: bounds, holds, steps, larger replica changes, cooldown, and bringing a
// deployment back into bounds.
#include "services/controller/decision.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace maestro::controller {
namespace {

using namespace std::chrono_literals;
using core::Action;

DeploymentSettings settings(int min, int max, int step = 1, std::chrono::seconds cooldown = 0s) {
  DeploymentSettings s;
  s.bounds = {min, max};
  s.step = step;
  s.cooldown = cooldown;
  return s;
}

const base::Clock::TimePoint kNow = base::Clock::TimePoint{} + 1000s;

// The decision for an action of the original set (its change is ±1 step or none).
Decision decide(int current, Action action, const DeploymentSettings& s, const ScalingHistory& history,
                base::Clock::TimePoint now) {
  const core::ReplicaChange change = core::original_action_set().changes[static_cast<std::size_t>(action)];
  return decide(current, wanted_replicas("original", change, current, s.step), s, history, now);
}

TEST(Decide, AppliesTheActionByOneStep) {
  EXPECT_EQ(decide(3, Action::kScaleUp, settings(1, 10, 2), {}, kNow).desired, 5);
  EXPECT_EQ(decide(3, Action::kScaleDown, settings(1, 10, 2), {}, kNow).desired, 1);
  const Decision hold = decide(3, Action::kHold, settings(1, 10, 2), {}, kNow);
  EXPECT_EQ(hold.desired, 3);
  EXPECT_EQ(hold.reason, DecisionReason::kHold);
  EXPECT_FALSE(hold.changes());
}

TEST(Decide, StopsAtTheBounds) {
  const Decision up = decide(10, Action::kScaleUp, settings(1, 10), {}, kNow);
  EXPECT_EQ(up.desired, 10);
  EXPECT_EQ(up.reason, DecisionReason::kAtBound);
  EXPECT_EQ(decide(2, Action::kScaleDown, settings(2, 10), {}, kNow).reason, DecisionReason::kAtBound);
  // A step larger than the room left goes only to the bound.
  EXPECT_EQ(decide(9, Action::kScaleUp, settings(1, 10, 4), {}, kNow).desired, 10);
  EXPECT_EQ(decide(3, Action::kScaleDown, settings(2, 10, 4), {}, kNow).desired, 2);
}

TEST(Decide, BringsADeploymentOutsideItsBoundsBackWhateverTheAction) {
  for (const Action action : {Action::kScaleDown, Action::kHold, Action::kScaleUp}) {
    const Decision over = decide(15, action, settings(1, 10), {}, kNow);
    EXPECT_EQ(over.desired, 10);
    EXPECT_EQ(over.reason, DecisionReason::kIntoBounds);
    EXPECT_EQ(decide(0, action, settings(2, 10), {}, kNow).desired, 2);
  }
}

TEST(Decide, HoldsWithinTheCooldownAfterAChangeInEitherDirection) {
  ScalingHistory history;
  history.record(3, 4, kNow - 30s);
  const auto s = settings(1, 10, 1, 60s);
  EXPECT_EQ(decide(4, Action::kScaleUp, s, history, kNow).reason, DecisionReason::kCooldown);
  EXPECT_EQ(decide(4, Action::kScaleDown, s, history, kNow).reason, DecisionReason::kCooldown);
  EXPECT_EQ(decide(4, Action::kScaleUp, s, history, kNow + 31s).desired, 5);
  // No cooldown configured: the last change does not matter.
  EXPECT_EQ(decide(4, Action::kScaleUp, settings(1, 10), history, kNow).desired, 5);
}

TEST(Decide, TakesLargerChangesAsTheirSetMeansThemWithinTheBounds) {
  const auto multi = core::multi_action_set();
  const auto wanted = [&](int code, int current) {
    return wanted_replicas("multi", multi.changes[static_cast<std::size_t>(code)], current, /*step=*/3);
  };
  EXPECT_EQ(wanted(0, 5), 2);  // −50% of 5, rounded away from zero: the step setting plays no part
  EXPECT_EQ(wanted(5, 5), 7);  // +2
  EXPECT_EQ(wanted(7, 4), 8);  // +100%
  EXPECT_EQ(decide(4, wanted(7, 4), settings(1, 6), {}, kNow).desired, 6);
  EXPECT_EQ(decide(5, wanted(0, 5), settings(3, 10), {}, kNow).desired, 3);
  const Decision hold = decide(5, wanted(3, 5), settings(1, 10), {}, kNow);
  EXPECT_EQ(hold.reason, DecisionReason::kHold);
}

TEST(Decide, LimitsTheRateAsTheBehaviorSays) {
  DeploymentSettings s = settings(1, 20);
  s.scale_up = core::ScalingRules{0s, core::PolicySelect::kMax, {{core::ScalingPolicyType::kPods, 2, 60s}}};
  s.scale_down = core::ScalingRules{0s, core::PolicySelect::kDisabled, {}};
  const Decision first = decide(3, 10, s, {}, kNow);
  EXPECT_EQ(first.desired, 5);
  EXPECT_EQ(first.reason, DecisionReason::kScaleUpLimit);

  ScalingHistory history;
  history.record(3, 5, kNow);
  const Decision within_period = decide(5, 10, s, history, kNow + 30s);
  EXPECT_EQ(within_period.desired, 5) << "2 pods per 60 s were already added";
  EXPECT_EQ(within_period.reason, DecisionReason::kScaleUpLimit);
  EXPECT_EQ(decide(5, 10, s, history, kNow + 61s).desired, 7);

  const Decision down = decide(5, 2, s, history, kNow + 61s);
  EXPECT_EQ(down.desired, 5) << "scale-down is disabled";
  EXPECT_EQ(down.reason, DecisionReason::kScaleDownLimit);
  s.scale_down.reset();
  EXPECT_EQ(decide(5, 2, s, history, kNow + 61s).desired, 2) << "a direction without rules is not limited";
  EXPECT_EQ(history_window(s), 60s);
  EXPECT_EQ(history_window(settings(1, 20, 1, 90s)), 90s);
}

TEST(ScalingHistory, KeepsChangesByDirectionAndForgetsOldOnes) {
  ScalingHistory history;
  history.record(3, 5, kNow - 100s);
  history.record(5, 4, kNow - 10s);
  history.record(4, 4, kNow);
  ASSERT_EQ(history.up.size(), 1u);
  EXPECT_EQ(history.up[0].replica_change, 2);
  ASSERT_EQ(history.down.size(), 1u);
  history.prune(kNow, 60s);
  EXPECT_TRUE(history.up.empty());
  EXPECT_EQ(history.down.size(), 1u);
}

// The clock went back an hour after a change: the change counts as made at the jump, so a 60 s cooldown holds
// for 60 s after it — not for the hour until the clock catches up.
TEST(ScalingHistory, AChangeAfterNowAfterTheClockWentBackCountsAsMadeNow) {
  ScalingHistory history;
  history.record(3, 4, kNow);
  const auto jumped = kNow - 1h;
  history.prune(jumped, 60s);
  ASSERT_EQ(history.up.size(), 1u);
  EXPECT_EQ(history.up[0].at, jumped);
  const auto s = settings(1, 10, 1, 60s);
  EXPECT_EQ(decide(4, 5, s, history, jumped + 30s).reason, DecisionReason::kCooldown);
  EXPECT_EQ(decide(4, 5, s, history, jumped + 60s).desired, 5);
}

TEST(ScalingHistory, BelongsToOneDeploymentAndForgetsItsChangesForAnother) {
  ScalingHistory history;
  history.belong_to("uid-1");
  history.record(3, 4, kNow);
  history.belong_to("uid-1");
  EXPECT_EQ(history.up.size(), 1u);
  history.belong_to("uid-2");  // deleted and created again under the same name
  EXPECT_TRUE(history.up.empty());
  EXPECT_EQ(history.uid, "uid-2");
}

RC_GTEST_PROP(Decide, NeverLeavesTheBoundsAndMovesAtMostOneStep, ()) {
  const int min = *rc::gen::inRange(0, 20);
  const int max = *rc::gen::inRange(std::max(1, min), 40);
  const int step = *rc::gen::inRange(1, 6);
  const auto cooldown = std::chrono::seconds(*rc::gen::inRange(0, 120));
  const auto s = settings(min, max, step, cooldown);
  int replicas = *rc::gen::inRange(0, 60);
  ScalingHistory history;
  auto now = kNow;
  const auto actions = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 3));
  bool first = true;
  for (const int code : actions) {
    const Decision decision = decide(replicas, static_cast<Action>(code), s, history, now);
    if (decision.changes()) {
      RC_ASSERT(decision.desired >= min);
      RC_ASSERT(decision.desired <= max);
      if (decision.reason != DecisionReason::kIntoBounds)
        RC_ASSERT(std::abs(decision.desired - replicas) <= step);
    }
    // After the first decision the deployment is within its bounds and stays there.
    if (!first) RC_ASSERT(replicas >= min && replicas <= max);
    if (code == static_cast<int>(Action::kHold) && replicas >= min && replicas <= max)
      RC_ASSERT(!decision.changes());
    history.record(replicas, decision.desired, now);
    replicas = decision.desired;
    now += std::chrono::seconds(*rc::gen::inRange(1, 60));
    first = false;
  }
}

}  // namespace
}  // namespace maestro::controller
