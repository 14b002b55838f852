// GAE against values worked out by hand, with an episode that terminates and one that is truncated
// inside the same rollout.
#include "rl/rollout_buffer.hpp"

#include <gtest/gtest.h>

namespace maestro::rl {
namespace {

// One environment, 4 steps, γ = 0.9, λ = 0.5. Values V = (1, 2, 3, 4), V(after the last step) = 5.
// Step 1 ends an episode by termination (reward 1, no bootstrap); step 3's episode is cut by a time
// limit, so the trainer has already added γ·V(terminal) = 0.9·10 to its reward (1 + 9 = 10), and GAE does
// not look past it either. Rewards r = (1, 1, 1, 10); episode_starts = (0, 0, 1, 0); last done = 1.
//   δ3 = 10 − 4 = 6                     A3 = 6
//   δ2 = 1 + 0.9·4 − 3 = 1.6            A2 = 1.6 + 0.45·6 = 4.3
//   δ1 = 1 − 2 = −1 (terminal)          A1 = −1
//   δ0 = 1 + 0.9·2 − 1 = 1.8            A0 = 1.8 + 0.45·(−1) = 1.35
TEST(Gae, MatchesHandComputedValuesAcrossTerminationAndTruncation) {
  RolloutBuffer buffer(4, 1, 1);
  buffer.values = {1, 2, 3, 4};
  buffer.rewards = {1, 1, 1, 10};
  buffer.episode_starts = {0, 0, 1, 0};
  const std::vector<float> last_values = {5};
  const std::vector<std::uint8_t> last_dones = {1};
  buffer.compute_returns_and_advantage(last_values, last_dones, 0.9, 0.5);
  const std::vector<float> advantages = {1.35f, -1.0f, 4.3f, 6.0f};
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(buffer.advantages[i], advantages[i], 1e-6) << i;
    EXPECT_NEAR(buffer.returns[i], advantages[i] + buffer.values[i], 1e-6) << i;
  }
}

// The same rollout not ending at the last step: it bootstraps from V(last observation) = 5.
//   δ3 = 10 + 0.9·5 − 4 = 10.5, A3 = 10.5; A2 = 1.6 + 0.45·10.5 = 6.325.
TEST(Gae, BootstrapsFromTheLastValueWhenTheRolloutEndsMidEpisode) {
  RolloutBuffer buffer(4, 1, 1);
  buffer.values = {1, 2, 3, 4};
  buffer.rewards = {1, 1, 1, 10};
  buffer.episode_starts = {0, 0, 1, 0};
  buffer.compute_returns_and_advantage(std::vector<float>{5}, std::vector<std::uint8_t>{0}, 0.9, 0.5);
  EXPECT_NEAR(buffer.advantages[3], 10.5, 1e-6);
  EXPECT_NEAR(buffer.advantages[2], 6.325, 1e-6);
  EXPECT_NEAR(buffer.advantages[1], -1.0, 1e-6);
}

// Two environments interleaved (index = step·n_envs + env) are computed independently.
TEST(Gae, EnvironmentsAreIndependent) {
  RolloutBuffer buffer(2, 2, 1);
  buffer.values = {1, 10, 2, 20};
  buffer.rewards = {1, 0, 1, 0};
  buffer.episode_starts = {0, 0, 0, 1};
  buffer.compute_returns_and_advantage(std::vector<float>{3, 30}, std::vector<std::uint8_t>{0, 0}, 0.5, 1.0);
  // env 0: δ1 = 1 + 1.5 − 2 = 0.5, δ0 = 1 + 1 − 1 = 1, A0 = 1 + 0.5·0.5 = 1.25.
  EXPECT_NEAR(buffer.advantages[2], 0.5, 1e-6);
  EXPECT_NEAR(buffer.advantages[0], 1.25, 1e-6);
  // env 1: δ1 = 0 + 15 − 20 = −5; step 1 starts an episode, so δ0 = 0 − 10 = −10 and A0 = −10.
  EXPECT_NEAR(buffer.advantages[3], -5.0, 1e-6);
  EXPECT_NEAR(buffer.advantages[1], -10.0, 1e-6);
}

}  // namespace
}  // namespace maestro::rl
