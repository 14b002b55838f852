// PPO with an anchor (PpoConfig::anchor_kl_coef): after an actor is cloned into a poor CartPole rule
// (mostly push left), plain PPO moves away from it, and the KL term to the policy training began from
// holds it there in proportion to its weight.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "base/clock.hpp"
#include "nn/categorical.hpp"
#include "rl/cartpole.hpp"
#include "rl/ppo.hpp"

namespace maestro::rl {
namespace {

struct Outcome {
  double push_left = 0;  // mean probability of pushing left on a fixed set of states
  double anchor_kl = 0;  // the last update's
  nn::PolicyFile policy;
};

Outcome train_from_push_left(double anchor_kl_coef) {
  PpoConfig config = *preset("sb3");
  config.n_steps = 512;
  config.threads = 1;
  config.anchor_kl_coef = anchor_kl_coef;
  std::vector<std::unique_ptr<Env>> envs;
  envs.push_back(std::make_unique<CartPole>());
  VecEnv env(std::move(envs), 3);
  const PolicyDescription description{"cartpole", "cartpole", 0, "cartpole", {"push_left", "push_right"},
                                      "cartpole", {},         {}};
  const base::RealClock clock;
  PpoTrainer trainer(config, description, env, 3, clock);
  std::mt19937_64 random(11);
  std::normal_distribution<double> state(0, 0.05);
  std::vector<double> states;
  std::vector<int> left;
  for (int i = 0; i < 2048; ++i) {
    for (int k = 0; k < 4; ++k) states.push_back(state(random));
    left.push_back(0);
  }
  trainer.imitate(states, left, 2, 1e-3);
  trainer.learn(20 * 512);

  Outcome outcome{0, trainer.last_update().anchor_kl, trainer.policy()};
  const nn::Actor actor(outcome.policy);
  std::vector<float> logits(2), log_probs(2);
  for (std::size_t i = 0; i < left.size(); ++i) {
    actor.logits(std::span(states).subspan(4 * i, 4), logits);
    nn::log_softmax<float>(logits, log_probs);
    outcome.push_left += std::exp(log_probs[0]) / double(left.size());
  }
  return outcome;
}

TEST(PpoAnchor, HoldsThePolicyNearWhereTrainingBegan) {
  const Outcome free = train_from_push_left(0);
  const Outcome held = train_from_push_left(1.0);
  const Outcome firmly = train_from_push_left(10.0);
  EXPECT_LT(free.push_left, 0.7) << "PPO alone leaves the poor rule (cloned to ~0.98)";
  EXPECT_GT(held.push_left, free.push_left + 0.15);
  EXPECT_GT(firmly.push_left, held.push_left);
  EXPECT_EQ(free.anchor_kl, 0.0);  // not computed without an anchor
  EXPECT_GT(held.anchor_kl, 0.0);
  EXPECT_GT(held.anchor_kl, firmly.anchor_kl);
}

TEST(PpoAnchor, ThePolicyFileRecordsTheWeightOnlyWhenUsed) {
  const auto named = [](const nn::PolicyFile& file) {
    for (const auto& [key, value] : file.metadata.hyperparameters)
      if (key == "anchor_kl_coef") return value;
    return std::string("absent");
  };
  EXPECT_EQ(named(train_from_push_left(0).policy), "absent");
  const std::string recorded = named(train_from_push_left(2.5).policy);
  EXPECT_EQ(recorded, "2.5");
  EXPECT_EQ(apply_yaml(*preset("sb3"), "anchor_kl_coef: " + recorded)->anchor_kl_coef, 2.5);
  const auto negative = apply_yaml(*preset("sb3"), "anchor_kl_coef: -1");
  ASSERT_TRUE(negative);
  EXPECT_FALSE(validate(*negative));
}

}  // namespace
}  // namespace maestro::rl
