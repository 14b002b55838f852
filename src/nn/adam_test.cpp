// Adam and gradient clipping against steps worked out by hand from torch's formulas.
#include "nn/adam.hpp"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace maestro::nn {
namespace {

// Step 1 with g = 0.5, lr 0.1, β = (0.9, 0.999), eps 1e-8: m = 0.05, v = 0.00025; bias corrections 0.1 and
// 0.001, so the update is 0.1/0.1 · 0.05/(√0.00025/√0.001 + 1e-8) = 0.05/(0.5 + 1e-8) ≈ 0.09999999800.
// Step 2 with g = −1: m = 0.045 − 0.1 = −0.055, v = 0.00024975 + 0.001 = 0.00124975; corrections 0.19 and
// 0.001999, update 0.1/0.19 · (−0.055)/(√0.00124975/√0.001999 + 1e-8).
TEST(Adam, MatchesTorchStepsComputedByHand) {
  Adam<double> adam(1);
  std::vector<double> parameter = {1.0};
  adam.step(parameter, std::vector<double>{0.5}, 0.1);
  const double first = 1.0 - 0.05 / (std::sqrt(0.00025) / std::sqrt(0.001) + 1e-8);
  EXPECT_NEAR(parameter[0], first, 1e-15);
  EXPECT_NEAR(parameter[0], 0.9000000020, 1e-9);
  adam.step(parameter, std::vector<double>{-1.0}, 0.1);
  const double second = first - 0.1 / 0.19 * (-0.055) / (std::sqrt(0.00124975) / std::sqrt(0.001999) + 1e-8);
  EXPECT_NEAR(parameter[0], second, 1e-14);
  EXPECT_EQ(adam.steps(), 2);
}

TEST(Adam, EpsilonIsAddedAfterTheSquareRoot) {
  // With a zero gradient history except one tiny gradient, eps (PPO's 1e-5) dominates the denominator.
  Adam<double> adam(1, 1e-5);
  std::vector<double> parameter = {0.0};
  adam.step(parameter, std::vector<double>{1e-6}, 1.0);
  // m̂ = 1e-6, √v̂ = 1e-6: update = 1e-6/(1e-6 + 1e-5).
  EXPECT_NEAR(parameter[0], -1e-6 / (1e-6 + 1e-5), 1e-15);
}

TEST(Adam, FloatFollowsTheDoubleComputation) {
  Adam<float> adam_f(3, 1e-5);
  Adam<double> adam_d(3, 1e-5);
  std::vector<float> pf = {0.1f, -0.2f, 0.3f};
  std::vector<double> pd = {0.1f, -0.2f, 0.3f};
  for (int step = 0; step < 5; ++step) {
    const std::vector<float> gf = {0.01f * step, -0.3f, 1.5f};
    const std::vector<double> gd(gf.begin(), gf.end());
    adam_f.step(pf, gf, 3e-4);
    adam_d.step(pd, gd, 3e-4);
  }
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(pf[i], pd[i], 1e-6);
}

// clip_grad_norm_ over two blocks (3, 4) and (12): norm 13; with max 0.5 every gradient is scaled by
// 0.5/(13 + 1e-6); under the limit nothing changes.
TEST(GradientClipping, ScalesAllBlocksByOneGlobalFactor) {
  std::vector<double> a = {3, 4}, b = {12};
  const double norm = global_norm<double>({a, b});
  EXPECT_DOUBLE_EQ(norm, 13.0);
  const double factor = clip_coefficient(norm, 0.5);
  EXPECT_DOUBLE_EQ(factor, 0.5 / (13 + 1e-6));
  scale<double>(a, factor);
  scale<double>(b, factor);
  EXPECT_NEAR(global_norm<double>({a, b}), 0.5, 1e-7);
  EXPECT_DOUBLE_EQ(a[0] / a[1], 0.75);
  EXPECT_EQ(clip_coefficient(0.3, 0.5), 1.0);
}

}  // namespace
}  // namespace maestro::nn
