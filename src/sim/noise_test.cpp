// The fast normal deviates: the quantile function against known values, and the draws' moments.
#include "sim/noise.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace maestro::sim {
namespace {

TEST(NormalQuantile, MatchesKnownValues) {
  EXPECT_NEAR(normal_quantile(0.5), 0, 1e-9);
  EXPECT_NEAR(normal_quantile(0.975), 1.959963985, 1e-8);
  EXPECT_NEAR(normal_quantile(0.05), -1.644853627, 1e-8);
  EXPECT_NEAR(normal_quantile(1e-5), -4.264890794, 1e-7);
}

TEST(FastNormal, DrawsHaveStandardMomentsAndRepeatPerSeed) {
  FastNormal a(3), b(3), c(4);
  double sum = 0, squares = 0, beyond_two = 0;
  constexpr int n = 400000;
  for (int i = 0; i < n; ++i) {
    const double z = a();
    EXPECT_EQ(z, b());
    sum += z;
    squares += z * z;
    beyond_two += std::abs(z) > 2;
  }
  EXPECT_NEAR(sum / n, 0, 0.01);
  EXPECT_NEAR(squares / n, 1, 0.01);
  EXPECT_NEAR(beyond_two / n, 0.0455, 0.002);
  EXPECT_NE(a(), c());
}

}  // namespace
}  // namespace maestro::sim
