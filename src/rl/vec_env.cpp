#include "rl/vec_env.hpp"

#include <algorithm>
#include <cassert>

namespace maestro::rl {

VecEnv::VecEnv(std::vector<std::unique_ptr<Env>> envs, std::uint64_t seed)
    : envs_(std::move(envs)), observation_size_(envs_.at(0)->observation_size()), seed_(seed) {
  for (const auto& env : envs_) {
    assert(env->observation_size() == observation_size_ &&
           env->action_count() == envs_.front()->action_count());
    (void)env;
  }
  const std::size_t n = envs_.size();
  for (std::size_t i = 0; i < n; ++i) episode_seeds_.emplace_back(seed + i);
  observations_.assign(n * observation_size_, 0.0);
  terminal_observations_.assign(n * observation_size_, 0.0);
  rewards_.assign(n, 0.0);
  terminated_.assign(n, 0);
  truncated_.assign(n, 0);
  running_.assign(n, {});
  infos_.resize(n);
}

void VecEnv::reset() {
  for (int i = 0; i < size(); ++i) {
    auto observation = std::span(observations_).subspan(i * observation_size_, observation_size_);
    envs_[i]->reset(seed_ + i, observation);
    running_[i] = {};
  }
  std::ranges::fill(terminated_, 0);
  std::ranges::fill(truncated_, 0);
  finished_.clear();
}

void VecEnv::step(std::span<const int> actions) {
  assert(actions.size() == envs_.size());
  finished_.clear();
  for (int i = 0; i < size(); ++i) {
    auto observation = std::span(observations_).subspan(i * observation_size_, observation_size_);
    const StepResult result = envs_[i]->step(actions[i], observation);
    if (record_info_) infos_[i] = envs_[i]->info();
    rewards_[i] = result.reward;
    terminated_[i] = result.terminated;
    truncated_[i] = result.truncated;
    running_[i].episode_return += result.reward;
    running_[i].length += 1;
    if (result.terminated || result.truncated) {
      std::ranges::copy(observation, terminal_observations_.begin() + i * observation_size_);
      finished_.emplace_back(i, running_[i]);
      running_[i] = {};
      envs_[i]->reset(episode_seeds_[i].next(), observation);
    }
  }
}

}  // namespace maestro::rl
