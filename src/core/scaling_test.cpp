#include "core/scaling.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace maestro::core {
namespace {

using std::chrono::seconds;

base::Clock::TimePoint at(int second) {
  return base::Clock::TimePoint{} + seconds(second);
}

ScalingRules pods_per_period(int pods, int period_seconds) {
  return ScalingRules{
      seconds(0), PolicySelect::kMax, {{ScalingPolicyType::kPods, pods, seconds(period_seconds)}}};
}

TEST(Bounds, InvalidBoundsAreRejected) {
  EXPECT_FALSE(validate(ReplicaBounds{5, 2}).has_value());
  EXPECT_FALSE(validate(ReplicaBounds{-1, 2}).has_value());
  EXPECT_FALSE(validate(ReplicaBounds{0, 0}).has_value());
  EXPECT_TRUE(validate(ReplicaBounds{0, 1}).has_value());
}

TEST(Action, StepsByStepSize) {
  EXPECT_EQ(apply_action(5, Action::kScaleDown, 2), 3);
  EXPECT_EQ(apply_action(5, Action::kHold, 2), 5);
  EXPECT_EQ(apply_action(5, Action::kScaleUp, 2), 7);
}

TEST(RateLimit, HpaDefaultScaleUpAllowsMaxOfFourPodsOrDouble) {
  const ScalingRules up{
      seconds(0),
      PolicySelect::kMax,
      {{ScalingPolicyType::kPercent, 100, seconds(15)}, {ScalingPolicyType::kPods, 4, seconds(15)}}};
  const ScalingRules down = pods_per_period(100, 15);
  const ReplicaBounds bounds{1, 100};
  EXPECT_EQ(limit_rate(1, 50, {}, {}, up, down, bounds, at(100)), 5);    // 4 pods beats 100%
  EXPECT_EQ(limit_rate(10, 50, {}, {}, up, down, bounds, at(100)), 20);  // 100% beats 4 pods
  // 6 pods were added 10 s ago: the period started at 4, so at most max(8, 8) now.
  const std::vector<ScaleEvent> recent_up{{at(90), 6}};
  EXPECT_EQ(limit_rate(10, 50, recent_up, {}, up, down, bounds, at(100)), 10);
  // Once the event is older than the period it no longer counts.
  EXPECT_EQ(limit_rate(10, 50, recent_up, {}, up, down, bounds, at(105)), 20);
}

TEST(RateLimit, MinSelectTakesTheSmallestChange) {
  const ScalingRules down{
      seconds(0),
      PolicySelect::kMin,
      {{ScalingPolicyType::kPercent, 50, seconds(60)}, {ScalingPolicyType::kPods, 1, seconds(60)}}};
  EXPECT_EQ(limit_rate(10, 1, {}, {}, pods_per_period(4, 15), down, ReplicaBounds{1, 20}, at(0)), 9);
}

TEST(RateLimit, DisabledHoldsCurrent) {
  const ScalingRules disabled{seconds(0), PolicySelect::kDisabled, {}};
  EXPECT_EQ(limit_rate(10, 1, {}, {}, disabled, disabled, ReplicaBounds{1, 20}, at(0)), 10);
  EXPECT_EQ(limit_rate(10, 15, {}, {}, disabled, disabled, ReplicaBounds{1, 20}, at(0)), 10);
}

TEST(Stabilisation, ScaleDownWaitsForTheHighestRecentRecommendation) {
  const std::vector<Recommendation> history{{at(0), 8}, {at(100), 6}, {at(290), 4}};
  EXPECT_EQ(stabilise(8, 3, history, seconds(0), seconds(300), at(299)), 8);
  EXPECT_EQ(stabilise(8, 3, history, seconds(0), seconds(300), at(300)), 6);  // the 8 at t=0 expired
  EXPECT_EQ(stabilise(8, 3, history, seconds(0), seconds(300), at(500)), 4);
  // Scale-up is not held back with a zero up window.
  EXPECT_EQ(stabilise(2, 9, history, seconds(0), seconds(300), at(300)), 9);
}

RC_GTEST_PROP(ScalingProperties, ClampedResultIsAlwaysWithinBounds, (int desired, int a, int b)) {
  const int lo = std::abs(a % 1000);
  const int hi = lo + 1 + std::abs(b % 1000);
  const int result = clamp_replicas(desired, ReplicaBounds{lo, hi});
  RC_ASSERT(result >= lo);
  RC_ASSERT(result <= hi);
}

RC_GTEST_PROP(ScalingProperties, RateLimitedResultIsWithinBoundsAndRate, ()) {
  const int lo = *rc::gen::inRange(0, 20);
  const int hi = *rc::gen::inRange(lo + 1, 200);
  const int current = *rc::gen::inRange(lo, hi + 1);
  const int desired = *rc::gen::inRange(-50, 400);
  const int up_pods = *rc::gen::inRange(1, 10);
  const int down_pods = *rc::gen::inRange(1, 10);
  const int period = *rc::gen::inRange(1, 120);
  const int now = 1000;
  const auto gen_events = [&] {
    return *rc::gen::container<std::vector<ScaleEvent>>(rc::gen::construct<ScaleEvent>(
        rc::gen::map(rc::gen::inRange(now - 200, now + 1), [](int s) { return at(s); }),
        rc::gen::inRange(1, 10)));
  };
  const auto up_events = gen_events();
  const auto down_events = gen_events();
  const ScalingRules up = pods_per_period(up_pods, period);
  const ScalingRules down = pods_per_period(down_pods, period);
  const ReplicaBounds bounds{lo, hi};

  const int result = limit_rate(current, desired, up_events, down_events, up, down, bounds, at(now));
  RC_ASSERT(result >= lo);
  RC_ASSERT(result <= hi);
  // Moves toward desired, never past it.
  if (desired >= current) RC_ASSERT(result >= current && result <= desired);
  if (desired <= current) RC_ASSERT(result <= current && result >= desired);
  // Within the rate limit: replicas at the period's start plus the allowance, net of past changes.
  const int start = current - replicas_changed_in_period(up_events, seconds(period), at(now)) +
                    replicas_changed_in_period(down_events, seconds(period), at(now));
  if (result > current) RC_ASSERT(result <= start + up_pods);
  if (result < current) RC_ASSERT(result >= start - down_pods);
}

RC_GTEST_PROP(ScalingProperties, StabilisedResultLiesBetweenCurrentAndDesired, ()) {
  const int current = *rc::gen::inRange(0, 100);
  const int desired = *rc::gen::inRange(0, 100);
  const auto history = *rc::gen::container<std::vector<Recommendation>>(rc::gen::construct<Recommendation>(
      rc::gen::map(rc::gen::inRange(0, 600), [](int s) { return at(s); }), rc::gen::inRange(0, 100)));
  const int result = stabilise(current, desired, history, seconds(60), seconds(300), at(600));
  RC_ASSERT(result >= std::min(current, desired));
  RC_ASSERT(result <= std::max(current, desired));
}

}  // namespace
}  // namespace maestro::core
