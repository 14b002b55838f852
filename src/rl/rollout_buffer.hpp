// The on-policy rollout of SB3's PPO: n_steps × n_envs transitions (index step·n_envs + env), and the
// generalised advantage estimate computed over them as SB3's RolloutBuffer does. Rewards of episodes cut by
// a time limit already include γ·V(terminal observation) (the trainer adds it), so GAE treats every episode
// end alike: the value after a done step is not used.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Core>

namespace maestro::rl {

struct RolloutBuffer {
  RolloutBuffer() = default;
  RolloutBuffer(int n_steps, int n_envs, int observation_size);

  int n_steps = 0, n_envs = 0;
  // observation_size × size(), one sample per column, row-major (the networks' batch layout): what the
  // policy saw (normalised).
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> observations;
  std::vector<int> actions;
  std::vector<float> rewards;                // including the truncation bootstrap
  std::vector<std::uint8_t> episode_starts;  // the observation is an episode's first
  std::vector<float> values, log_probs;
  // With an anchor policy (PpoConfig::anchor_kl_coef): its log-probabilities, action_count × size(),
  // one sample per column; empty otherwise.
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> anchor_log_probs;
  std::vector<float> advantages, returns;

  int size() const { return n_steps * n_envs; }
  int index(int step, int env) const { return step * n_envs + env; }

  // GAE(γ, λ) backwards over the rollout; last_values = V(observation after the last step) per env, and
  // last_dones whether that last step ended its episode. returns = advantages + values.
  void compute_returns_and_advantage(std::span<const float> last_values,
                                     std::span<const std::uint8_t> last_dones, double gamma,
                                     double gae_lambda);
};

}  // namespace maestro::rl
