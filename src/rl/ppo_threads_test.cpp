// Training with a helper thread (the critic's half of each minibatch, the critic's values of a rollout
// computed in chunks while it is collected) gives the very same policy as training on one thread.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "rl/cartpole.hpp"
#include "rl/ppo.hpp"

namespace maestro::rl {
namespace {

nn::PolicyFile train_cartpole(int threads, int n_steps) {
  PpoConfig config = *preset("sb3");
  config.threads = threads;
  config.n_steps = n_steps;
  std::vector<std::unique_ptr<Env>> envs;
  envs.push_back(std::make_unique<CartPole>());
  VecEnv env(std::move(envs), 7);
  const PolicyDescription description{"cartpole", "cartpole", 0, "cartpole", {"push_left", "push_right"},
                                      "cartpole", {},         {}};
  auto policy = train(config, description, env, 3 * std::uint64_t(n_steps), 7);
  EXPECT_TRUE(policy.has_value());
  return policy ? *policy : nn::PolicyFile{};
}

TEST(PpoThreads, TwoThreadsTrainTheSamePolicyAsOne) {
  // 1024: whole chunks of 256 columns; 600: a tail of 88 columns after them, itself not a multiple of 16.
  for (int n_steps : {1024, 600}) {
    const nn::PolicyFile one = train_cartpole(1, n_steps);
    const nn::PolicyFile two = train_cartpole(2, n_steps);
    EXPECT_TRUE(std::ranges::equal(one.network.actor.parameters(), two.network.actor.parameters()))
        << n_steps;
    EXPECT_TRUE(std::ranges::equal(one.network.critic.parameters(), two.network.critic.parameters()))
        << n_steps;
    EXPECT_GT(one.metadata.steps, 0u);
  }
}

}  // namespace
}  // namespace maestro::rl
