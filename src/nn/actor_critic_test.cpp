// SB3's initialisation: orthogonal weights with the right gains, zero biases, reproducible from the seed.
#include "nn/actor_critic.hpp"

#include <cmath>

#include <gtest/gtest.h>

namespace maestro::nn {
namespace {

// Rows (or columns, when the matrix is tall) of an orthogonal init are orthogonal with norm `gain`.
void expect_orthogonal(const Mlp<float>& mlp, int layer, double gain) {
  const Eigen::MatrixXd w = mlp.weight(layer).cast<double>();
  const Eigen::MatrixXd gram =
      w.rows() <= w.cols() ? Eigen::MatrixXd(w * w.transpose()) : Eigen::MatrixXd(w.transpose() * w);
  const Eigen::MatrixXd expected = gain * gain * Eigen::MatrixXd::Identity(gram.rows(), gram.cols());
  EXPECT_LT((gram - expected).cwiseAbs().maxCoeff(), 1e-5 * std::max(1.0, gain * gain)) << "layer " << layer;
  EXPECT_TRUE(mlp.bias(layer).isZero()) << "layer " << layer;
}

TEST(ActorCritic, InitialisedAsSb3WithOrthogonalWeightsAndGains) {
  Rng rng(3);
  const auto network = initialise(ActorCriticShape{5, 3}, rng);
  EXPECT_EQ(network.actor.shape().sizes, (std::vector<int>{5, 64, 64, 3}));
  EXPECT_EQ(network.critic.shape().sizes, (std::vector<int>{5, 64, 64, 1}));
  for (int l = 0; l < 2; ++l) {
    expect_orthogonal(network.actor, l, std::sqrt(2.0));
    expect_orthogonal(network.critic, l, std::sqrt(2.0));
  }
  expect_orthogonal(network.actor, 2, 0.01);
  expect_orthogonal(network.critic, 2, 1.0);
}

TEST(ActorCritic, SameSeedSameWeightsOtherSeedOtherWeights) {
  Rng a(5), b(5), c(6);
  const auto first = initialise(ActorCriticShape{5, 3}, a);
  const auto second = initialise(ActorCriticShape{5, 3}, b);
  const auto third = initialise(ActorCriticShape{5, 3}, c);
  EXPECT_TRUE(std::ranges::equal(first.actor.parameters(), second.actor.parameters()));
  EXPECT_FALSE(std::ranges::equal(first.actor.parameters(), third.actor.parameters()));
}

TEST(ActorCritic, ShapeRoundTripsAndInvalidShapesAreRefused) {
  const ActorCriticShape shape{4, 2, {32}, {16, 8}};
  EXPECT_EQ(ActorCritic<float>(shape).shape(), shape);
  EXPECT_FALSE(validate(ActorCriticShape{4, 1}).has_value());
  EXPECT_FALSE(validate(ActorCriticShape{0, 3}).has_value());
}

}  // namespace
}  // namespace maestro::nn
