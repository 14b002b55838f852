// The MLP against values computed by hand, and its backward pass against finite differences.
#include "nn/mlp.hpp"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "nn/random.hpp"

namespace maestro::nn {
namespace {

// 2 → 2 → 1 with hand-set weights, in torch's layout: W1 = [[1, 2], [−1, 0.5]], b1 = [0.1, −0.2],
// W2 = [[0.3, −0.7]], b2 = [0.05]. For x = (0.5, −1): z1 = (−1.4, −1.2), so the output is
// 0.3·tanh(−1.4) − 0.7·tanh(−1.2) + 0.05 = 0.36795273044782983 (computed independently).
template <typename S>
Mlp<S> hand_set_network() {
  Mlp<S> mlp(MlpShape{{2, 2, 1}});
  const std::vector<S> flat = {1, 2, -1, 0.5, 0.1, -0.2, 0.3, -0.7, 0.05};
  std::ranges::copy(flat, mlp.parameters().begin());
  return mlp;
}
constexpr double kHandSetOutput = 0.36795273044782983;

TEST(Mlp, ParametersAreLaidOutAsTorchLayerByLayer) {
  const auto mlp = hand_set_network<double>();
  EXPECT_EQ(mlp.shape().parameter_count(), 9u);
  EXPECT_EQ(mlp.weight(0)(0, 1), 2.0);  // row = output unit, column = input
  EXPECT_EQ(mlp.weight(0)(1, 0), -1.0);
  EXPECT_EQ(mlp.bias(0)(1), -0.2);
  EXPECT_EQ(mlp.weight(1)(0, 1), -0.7);
  EXPECT_EQ(mlp.bias(1)(0), 0.05);
}

TEST(Mlp, OneSampleMatchesTheHandComputedOutput) {
  const std::vector<double> input = {0.5, -1.0};
  std::vector<double> output(1), scratch(4);
  hand_set_network<double>().forward(input, output, scratch);
  EXPECT_NEAR(output[0], kHandSetOutput, 1e-15);

  const std::vector<float> input_f = {0.5f, -1.0f};
  std::vector<float> output_f(1), scratch_f(4);
  hand_set_network<float>().forward(input_f, output_f, scratch_f);
  EXPECT_NEAR(output_f[0], kHandSetOutput, 1e-6);
}

TEST(Mlp, BatchMatchesTheHandComputedOutputInEveryColumn) {
  const auto mlp = hand_set_network<double>();
  Mlp<double>::Matrix input(2, 3);
  input << 0.5, 0.0, 0.5, -1.0, 0.0, -1.0;
  Mlp<double>::Cache cache;
  mlp.forward(input, cache);
  ASSERT_EQ(cache.outputs.back().cols(), 3);
  EXPECT_NEAR(cache.outputs.back()(0, 0), kHandSetOutput, 1e-15);
  // x = 0: 0.3·tanh(0.1) − 0.7·tanh(−0.2) + 0.05
  EXPECT_NEAR(cache.outputs.back()(0, 1), 0.3 * std::tanh(0.1) - 0.7 * std::tanh(-0.2) + 0.05, 1e-15);
  EXPECT_NEAR(cache.outputs.back()(0, 2), kHandSetOutput, 1e-15);
}

Mlp<double> random_network(const MlpShape& shape, Rng& rng) {
  Mlp<double> mlp(shape);
  for (double& p : mlp.parameters()) p = rng.normal() * 0.5;
  return mlp;
}

TEST(Mlp, OneSampleAndBatchPathsAgree) {
  Rng rng(7);
  const auto mlp = random_network(MlpShape{{5, 64, 64, 3}}, rng);
  Mlp<double>::Matrix input(5, 4);
  for (double& x : input.reshaped()) x = rng.normal();
  Mlp<double>::Cache cache;
  mlp.forward(input, cache);
  std::vector<double> output(3), scratch(128);
  for (int c = 0; c < 4; ++c) {
    const Eigen::VectorXd sample = input.col(c);
    mlp.forward(std::span<const double>(sample.data(), 5), output, scratch);
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(output[i], cache.outputs.back()(i, c), 1e-12);
  }
}

// loss = Σ coefficients ⊙ output over a batch; the analytic gradient against central differences.
TEST(Mlp, BackwardMatchesFiniteDifferences) {
  Rng rng(11);
  auto mlp = random_network(MlpShape{{4, 7, 6, 3}}, rng);
  Mlp<double>::Matrix input(4, 5), coefficients(3, 5);
  for (double& x : input.reshaped()) x = rng.normal();
  for (double& c : coefficients.reshaped()) c = rng.normal();
  auto loss = [&] {
    Mlp<double>::Cache cache;
    mlp.forward(input, cache);
    return (cache.outputs.back().array() * coefficients.array()).sum();
  };
  Mlp<double>::Cache cache;
  mlp.forward(input, cache);
  std::vector<double> gradient(mlp.parameters().size());
  mlp.backward(input, cache, coefficients, gradient);

  const double h = 1e-6;
  for (std::size_t i = 0; i < gradient.size(); ++i) {
    double& p = mlp.parameters()[i];
    const double saved = p;
    p = saved + h;
    const double up = loss();
    p = saved - h;
    const double down = loss();
    p = saved;
    EXPECT_NEAR(gradient[i], (up - down) / (2 * h), 1e-7 * (1 + std::abs(gradient[i]))) << "parameter " << i;
  }
}

TEST(Mlp, ShapesOutsideTheLimitsAreRefused) {
  EXPECT_FALSE(validate(MlpShape{{5}}).has_value());
  EXPECT_FALSE(validate(MlpShape{{5, 0, 3}}).has_value());
  EXPECT_FALSE(validate(MlpShape{{5, kMaxWidth + 1, 3}}).has_value());
  EXPECT_TRUE(validate(MlpShape{{5, 64, 64, 3}}).has_value());
}

}  // namespace
}  // namespace maestro::nn
