#include "rl/rollout_buffer.hpp"

#include <cassert>

namespace maestro::rl {

RolloutBuffer::RolloutBuffer(int n_steps, int n_envs, int observation_size)
    : n_steps(n_steps), n_envs(n_envs), observations(observation_size, n_steps * n_envs) {
  const std::size_t n = std::size_t(n_steps) * n_envs;
  actions.assign(n, 0);
  rewards.assign(n, 0);
  episode_starts.assign(n, 0);
  values.assign(n, 0);
  log_probs.assign(n, 0);
  advantages.assign(n, 0);
  returns.assign(n, 0);
}

void RolloutBuffer::compute_returns_and_advantage(std::span<const float> last_values,
                                                  std::span<const std::uint8_t> last_dones, double gamma,
                                                  double gae_lambda) {
  assert(last_values.size() == std::size_t(n_envs) && last_dones.size() == std::size_t(n_envs));
  for (int env = 0; env < n_envs; ++env) {
    double last_gae_lambda = 0;
    for (int step = n_steps - 1; step >= 0; --step) {
      double next_non_terminal, next_value;
      if (step == n_steps - 1) {
        next_non_terminal = 1.0 - last_dones[env];
        next_value = last_values[env];
      } else {
        next_non_terminal = 1.0 - episode_starts[index(step + 1, env)];
        next_value = values[index(step + 1, env)];
      }
      const int i = index(step, env);
      const double delta = rewards[i] + gamma * next_value * next_non_terminal - values[i];
      last_gae_lambda = delta + gamma * gae_lambda * next_non_terminal * last_gae_lambda;
      advantages[i] = static_cast<float>(last_gae_lambda);
      returns[i] = static_cast<float>(last_gae_lambda + values[i]);
    }
  }
}

}  // namespace maestro::rl
