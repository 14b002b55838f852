// The whole PPO loss (clipped surrogate + entropy + clipped value loss) through both networks: analytic
// gradients against central finite differences in double precision, with samples on both sides of every
// clip so that each branch is exercised.
#include "rl/ppo_loss.hpp"

#include <cmath>

#include <gtest/gtest.h>

#include "nn/actor_critic.hpp"
#include "nn/categorical.hpp"

namespace maestro::rl {
namespace {

struct Batch {
  Matrix<double> observations;
  std::vector<int> actions;
  std::vector<double> old_log_probs, advantages, returns, old_values;
};

constexpr double kClip = 0.2, kClipVf = 0.3, kEntCoef = 0.05, kVfCoef = 0.5;

double total_loss(const nn::ActorCritic<double>& network, const Batch& b, ActorLossTerms* terms = nullptr,
                  std::vector<double>* actor_gradient = nullptr,
                  std::vector<double>* critic_gradient = nullptr,
                  const AnchorTerm<double>* anchor = nullptr) {
  std::vector<double> actor_sink(network.actor.parameters().size()),
      critic_sink(network.critic.parameters().size());
  ActorLossWork<double> actor_work;
  CriticLossWork<double> critic_work;
  const ActorLossTerms t =
      actor_loss<double>(network.actor, b.observations, b.actions, b.old_log_probs, b.advantages, kClip,
                         kEntCoef, actor_work, actor_gradient ? *actor_gradient : actor_sink, anchor);
  const double value_loss =
      critic_loss<double>(network.critic, b.observations, b.returns, b.old_values, kClipVf, kVfCoef,
                          critic_work, critic_gradient ? *critic_gradient : critic_sink);
  if (terms) *terms = t;
  return t.policy_loss + kEntCoef * t.entropy_loss + (anchor ? anchor->coef * t.anchor_kl : 0.0) +
         kVfCoef * value_loss;
}

// Log-probabilities of `actor` on `observations`, one row per action.
Matrix<double> log_probabilities(const nn::Mlp<double>& actor, const Matrix<double>& observations) {
  typename nn::Mlp<double>::Cache cache;
  actor.forward(observations, cache);
  Matrix<double> out = cache.outputs.back();
  for (Eigen::Index i = 0; i < out.cols(); ++i) {
    std::vector<double> logits(out.col(i).begin(), out.col(i).end()), log_probs(logits.size());
    nn::log_softmax<double>(logits, log_probs);
    for (Eigen::Index j = 0; j < out.rows(); ++j) out(j, i) = log_probs[std::size_t(j)];
  }
  return out;
}

class PpoLoss : public ::testing::Test {
 protected:
  void SetUp() override {
    nn::Rng rng(2024);
    const nn::ActorCriticShape shape{5, 3, {8, 7}, {6, 8}};
    network_ = nn::initialise(shape, rng).cast<double>();
    // Larger than SB3's initial weights so that the policy is far from uniform and ratios move.
    for (double& p : network_.actor.parameters()) p = 0.6 * rng.normal();
    for (double& p : network_.critic.parameters()) p = 0.6 * rng.normal();
    const int n = 24;
    batch_.observations.resize(5, n);
    for (double& x : batch_.observations.reshaped()) x = rng.normal();
    ActorLossWork<double> work;
    network_.actor.forward(batch_.observations, work.cache);
    CriticLossWork<double> critic_work;
    network_.critic.forward(batch_.observations, critic_work.cache);
    for (int i = 0; i < n; ++i) {
      batch_.actions.push_back(int(rng.below(3)));
      std::array<double, 3> logits, log_probs;
      for (int j = 0; j < 3; ++j) logits[j] = work.cache.outputs.back()(j, i);
      nn::log_softmax<double>(logits, log_probs);
      // Old log-probabilities shifted by up to ±0.6: ratios from ~0.55 to ~1.8, inside and outside the clip.
      batch_.old_log_probs.push_back(log_probs[batch_.actions[i]] + 0.6 * (2 * rng.uniform() - 1));
      batch_.advantages.push_back(rng.normal());
      batch_.returns.push_back(rng.normal());
      batch_.old_values.push_back(critic_work.cache.outputs.back()(0, i) + 0.6 * (2 * rng.uniform() - 1));
    }
  }
  nn::ActorCritic<double> network_;
  Batch batch_;
};

TEST_F(PpoLoss, BatchExercisesEveryBranch) {
  ActorLossTerms terms;
  total_loss(network_, batch_, &terms);
  EXPECT_GT(terms.clip_fraction, 0.2);
  EXPECT_LT(terms.clip_fraction, 0.8);
}

TEST_F(PpoLoss, GradientMatchesFiniteDifferencesThroughBothNetworks) {
  std::vector<double> actor_gradient(network_.actor.parameters().size());
  std::vector<double> critic_gradient(network_.critic.parameters().size());
  total_loss(network_, batch_, nullptr, &actor_gradient, &critic_gradient);

  const double h = 1e-6;
  auto check = [&](std::span<double> parameters, const std::vector<double>& gradient, const char* network) {
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      const double saved = parameters[i];
      parameters[i] = saved + h;
      const double up = total_loss(network_, batch_);
      parameters[i] = saved - h;
      const double down = total_loss(network_, batch_);
      parameters[i] = saved;
      EXPECT_NEAR(gradient[i], (up - down) / (2 * h), 1e-6 * (1 + std::abs(gradient[i])))
          << network << " parameter " << i;
    }
  };
  check(network_.actor.parameters(), actor_gradient, "actor");
  check(network_.critic.parameters(), critic_gradient, "critic");
}

TEST_F(PpoLoss, AnchorTermGradientMatchesFiniteDifferences) {
  // The anchor: another network's policy on the same observations.
  nn::Rng rng(7);
  nn::ActorCritic<double> other = network_;
  for (double& p : other.actor.parameters()) p = 0.6 * rng.normal();
  const Matrix<double> anchor_log_probs = log_probabilities(other.actor, batch_.observations);
  const AnchorTerm<double> anchor{anchor_log_probs, 0.7};

  std::vector<double> gradient(network_.actor.parameters().size()), sink(network_.critic.parameters().size());
  ActorLossTerms terms;
  total_loss(network_, batch_, &terms, &gradient, &sink, &anchor);
  // The KL itself, sample by sample from the definition.
  const Matrix<double> own = log_probabilities(network_.actor, batch_.observations);
  double kl = 0;
  for (Eigen::Index i = 0; i < own.cols(); ++i)
    for (Eigen::Index j = 0; j < own.rows(); ++j)
      kl += std::exp(own(j, i)) * (own(j, i) - anchor_log_probs(j, i));
  EXPECT_NEAR(terms.anchor_kl, kl / double(own.cols()), 1e-12);
  EXPECT_GT(terms.anchor_kl, 0.05);

  const double h = 1e-6;
  auto parameters = network_.actor.parameters();
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const double saved = parameters[i];
    parameters[i] = saved + h;
    const double up = total_loss(network_, batch_, nullptr, nullptr, nullptr, &anchor);
    parameters[i] = saved - h;
    const double down = total_loss(network_, batch_, nullptr, nullptr, nullptr, &anchor);
    parameters[i] = saved;
    EXPECT_NEAR(gradient[i], (up - down) / (2 * h), 1e-6 * (1 + std::abs(gradient[i]))) << "parameter " << i;
  }
}

TEST_F(PpoLoss, AnAnchorEqualToThePolicyAddsNothing) {
  const Matrix<double> own = log_probabilities(network_.actor, batch_.observations);
  const AnchorTerm<double> anchor{own, 5.0};
  std::vector<double> anchored(network_.actor.parameters().size()), plain(anchored.size()),
      sink(network_.critic.parameters().size());
  ActorLossTerms terms;
  total_loss(network_, batch_, &terms, &anchored, &sink, &anchor);
  total_loss(network_, batch_, nullptr, &plain, &sink);
  EXPECT_NEAR(terms.anchor_kl, 0.0, 1e-12);
  for (std::size_t i = 0; i < plain.size(); ++i) EXPECT_NEAR(anchored[i], plain[i], 1e-12) << i;
}

TEST(Advantages, NormalisedWithTheSampleStandardDeviation) {
  // {1, 2, 3, 6}: mean 3, sample std √(14/3).
  const std::vector<double> advantages = {1, 2, 3, 6};
  std::vector<double> out(4);
  normalize_advantages<double>(advantages, out);
  const double std_dev = std::sqrt(14.0 / 3.0);
  EXPECT_NEAR(out[0], -2 / (std_dev + 1e-8), 1e-15);
  EXPECT_NEAR(out[3], 3 / (std_dev + 1e-8), 1e-15);
}

}  // namespace
}  // namespace maestro::rl
