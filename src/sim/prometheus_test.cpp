// histogram_quantile and rate's extrapolation against hand-computed cases.
#include "sim/prometheus.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace maestro::sim {
namespace {

const std::vector<double> kBounds = {0.1, 0.2, 0.5};

TEST(HistogramQuantile, InterpolatesLinearlyWithinTheBucket) {
  // 100 observations: 50 ≤ 0.1, 40 in (0.1, 0.2], 10 in (0.2, 0.5], none above.
  const std::vector<double> cumulative = {50, 90, 100, 100};
  // rank 95 lies in (0.2, 0.5], 5 of its 10: halfway.
  EXPECT_NEAR(histogram_quantile(0.95, kBounds, cumulative), 0.35, 1e-12);
  // rank 50 is the top of the first bucket; rank 25 halfway up from 0.
  EXPECT_NEAR(histogram_quantile(0.5, kBounds, cumulative), 0.1, 1e-12);
  EXPECT_NEAR(histogram_quantile(0.25, kBounds, cumulative), 0.05, 1e-12);
  EXPECT_NEAR(histogram_quantile(0.7, kBounds, cumulative), 0.15, 1e-12);
}

TEST(HistogramQuantile, ARankInTheInfBucketGivesTheLargestFiniteBound) {
  const std::vector<double> cumulative = {10, 20, 30, 100};
  EXPECT_EQ(histogram_quantile(0.95, kBounds, cumulative), 0.5);
}

TEST(HistogramQuantile, AnEmptyHistogramHasNoValue) {
  EXPECT_TRUE(std::isnan(histogram_quantile(0.95, kBounds, std::vector<double>{0, 0, 0, 0})));
}

TEST(HistogramQuantile, WorksOnRatesAsOnCounts) {
  const std::vector<double> counts = {50, 90, 100, 100}, rates = {5, 9, 10, 10};
  EXPECT_NEAR(histogram_quantile(0.95, kBounds, counts), histogram_quantile(0.95, kBounds, rates), 1e-12);
}

TEST(ExtrapolatedIncrease, ExtendsToTheRangeEdgesWithinATenthOfAnInterval) {
  // Range (0, 30], samples at 15 and 30: the gap to the start (15 s) is under 1.1 × 15 s, so the increase
  // over 15 s is scaled to 30 s.
  EXPECT_NEAR(extrapolated_increase(15, 100, 30, 250, 2, 30, 30), 300, 1e-9);
  // Range (0, 60], samples at 10, 25, 40 (average interval 15): start gap 10 s, end gap 20 s > 16.5 s, so
  // the end is extended by half an interval only: 30 + 10 + 7.5 = 47.5 s.
  EXPECT_NEAR(extrapolated_increase(10, 0, 40, 300, 3, 60, 60), 300 * 47.5 / 30, 1e-9);
}

}  // namespace
}  // namespace maestro::sim
