// Behaviour cloning before PPO: an actor fitted to demonstrations that a linear rule separates picks the
// demonstrated action on observations it never saw, through the policy file as served (normalisation
// statistics included).
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <vector>

#include "base/clock.hpp"
#include "rl/cartpole.hpp"
#include "rl/ppo.hpp"

namespace maestro::rl {
namespace {

TEST(PpoImitate, ClonesASeparableRuleAndServesIt) {
  PpoConfig config = *preset("sb3");
  config.normalize_observations = true;
  config.threads = 1;
  config.n_envs = 1;
  std::vector<std::unique_ptr<Env>> envs;
  envs.push_back(std::make_unique<CartPole>());
  VecEnv env(std::move(envs), 1);
  const PolicyDescription description{"cartpole", "cartpole", 0, "cartpole", {"push_left", "push_right"},
                                      "cartpole", {},         {}};
  const base::RealClock clock;
  PpoTrainer trainer(config, description, env, 1, clock);
  // Push towards where the pole leans, on observations far from the unit scale (normalisation's job).
  std::mt19937_64 random(7);
  std::normal_distribution<double> position(5, 2), angle(0, 0.1);
  const auto draw = [&](std::vector<double>& observations, std::vector<int>& actions, int rows) {
    for (int i = 0; i < rows; ++i) {
      const double lean = angle(random);
      observations.insert(observations.end(), {position(random), 0, lean, 0});
      actions.push_back(lean > 0 ? 1 : 0);
    }
  };
  std::vector<double> observations;
  std::vector<int> actions;
  draw(observations, actions, 4096);
  const double before = [&] {
    const nn::Actor actor(trainer.policy());
    int agree = 0;
    for (std::size_t i = 0; i < actions.size(); ++i)
      agree += actor.act(std::span(observations).subspan(4 * i, 4)) == actions[i];
    return double(agree) / double(actions.size());
  }();
  EXPECT_LT(before, 0.8);  // a fresh actor is near uniform: it does not know the rule
  EXPECT_GT(trainer.imitate(observations, actions, 20, 1e-3), 0.95);

  std::vector<double> unseen;
  std::vector<int> expected;
  draw(unseen, expected, 1000);
  const nn::Actor served(trainer.policy());
  int agree = 0;
  for (std::size_t i = 0; i < expected.size(); ++i)
    agree += served.act(std::span(unseen).subspan(4 * i, 4)) == expected[i];
  EXPECT_GT(agree, 950);
}

}  // namespace
}  // namespace maestro::rl
