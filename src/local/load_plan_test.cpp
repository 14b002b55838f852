// The load plan: k6-like stages parsed and ramped, rates from the traffic library, Poisson arrivals that
// follow the rate (a property over random plans).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cmath>

#include "local/load_plan.hpp"

namespace maestro::local {
namespace {

using namespace std::chrono_literals;

TEST(LoadStages, ParseK6LikeStages) {
  const auto stages = parse_stages("30s:10,2m:10.5,500ms:0,1h:1");
  ASSERT_TRUE(stages.has_value()) << stages.error().message;
  ASSERT_EQ(stages->size(), 4u);
  EXPECT_EQ((*stages)[0].duration, 30s);
  EXPECT_EQ((*stages)[1].duration, 120s);
  EXPECT_DOUBLE_EQ((*stages)[1].target_rps, 10.5);
  EXPECT_EQ((*stages)[2].duration, 500ms);
  EXPECT_EQ((*stages)[3].duration, 3600s);
  EXPECT_FALSE(parse_stages("30:10").has_value());
  EXPECT_FALSE(parse_stages("30s").has_value());
  EXPECT_FALSE(parse_stages("30s:-1").has_value());
  EXPECT_FALSE(parse_stages("").has_value());
}

TEST(LoadStages, RampLinearlyThenHold) {
  const std::vector<LoadStage> stages = {{10s, 100}, {10s, 100}, {5s, 0}};
  const auto plan = plan_from_stages(stages, 0, 1s);
  ASSERT_EQ(plan.rps.size(), 25u);
  EXPECT_DOUBLE_EQ(plan.rps[0], 5);  // the middle of the first second of a 0→100 ramp over 10 s
  EXPECT_DOUBLE_EQ(plan.rps[9], 95);
  EXPECT_DOUBLE_EQ(plan.rps[10], 100);
  EXPECT_DOUBLE_EQ(plan.rps[19], 100);
  EXPECT_DOUBLE_EQ(plan.rps[20], 90);
  EXPECT_DOUBLE_EQ(plan.rps[24], 10);
  EXPECT_DOUBLE_EQ(plan.expected_requests(), 500 + 1000 + 250);
}

TEST(LoadStages, RatesFromTheTrafficLibraryAreOneSliceASecond) {
  const std::vector<double> rates = {1, 2, 3};
  const auto plan = plan_from_rates(rates);
  EXPECT_EQ(plan.slice, 1s);
  EXPECT_DOUBLE_EQ(plan.duration_seconds(), 3);
  EXPECT_DOUBLE_EQ(plan.expected_requests(), 6);
}

RC_GTEST_PROP(PoissonArrivals, FollowTheRateAndStayInTheRun, ()) {
  const auto rate = *rc::gen::inRange(50, 400);
  const auto seconds = *rc::gen::inRange(5, 30);
  const std::vector<double> rates(static_cast<std::size_t>(seconds), static_cast<double>(rate));
  std::mt19937_64 rng(*rc::gen::arbitrary<std::uint32_t>());
  const auto plan = plan_from_rates(rates);
  const auto arrivals = poisson_arrivals(plan, rng);
  const double expected = plan.expected_requests();
  // Poisson: the count is within 5 standard deviations of its mean.
  RC_ASSERT(std::abs(static_cast<double>(arrivals.size()) - expected) < 5 * std::sqrt(expected));
  RC_ASSERT(std::is_sorted(arrivals.begin(), arrivals.end()));
  RC_ASSERT(arrivals.empty() || (arrivals.front() >= 0 && arrivals.back() < plan.duration_seconds()));
}

TEST(PoissonArrivals, NoneWhereTheRateIsZero) {
  const std::vector<double> rates = {0, 200, 0};
  std::mt19937_64 rng(7);
  for (double at : poisson_arrivals(plan_from_rates(rates), rng)) {
    EXPECT_GE(at, 1);
    EXPECT_LT(at, 2);
  }
}

}  // namespace
}  // namespace maestro::local
