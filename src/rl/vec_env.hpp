// Several environments stepped together, as Stable-Baselines3's DummyVecEnv with a Monitor on each: when
// an episode ends, the environment resets in the same step, its next observation is the new episode's
// first, and the last observation of the ended episode is kept (terminal_observation, needed to bootstrap
// a truncated episode). Each environment has its own seed stream: environment i starts with seed + i, as
// SB3's make_vec_env seeds them, and every later episode takes the next number of a generator seeded with
// seed + i. Finished episodes' returns and lengths are reported for logging.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "nn/random.hpp"
#include "rl/env.hpp"

namespace maestro::rl {

struct EpisodeStats {
  double episode_return = 0;
  int length = 0;
};

class VecEnv {
 public:
  // All environments must agree on observation size and action count.
  VecEnv(std::vector<std::unique_ptr<Env>> envs, std::uint64_t seed);

  int size() const { return static_cast<int>(envs_.size()); }
  std::size_t observation_size() const { return observation_size_; }
  int action_count() const { return envs_.front()->action_count(); }
  Env& env(int i) { return *envs_[i]; }

  // Resets every environment; observations() then holds the first observations.
  void reset();
  // One action per environment; afterwards observations(), rewards() etc. describe this step.
  void step(std::span<const int> actions);

  // size() × observation_size(), environment after environment.
  std::span<const double> observations() const { return observations_; }
  std::span<const double> observation(int i) const {
    return std::span(observations_).subspan(i * observation_size_, observation_size_);
  }
  std::span<const double> rewards() const { return rewards_; }
  bool done(int i) const { return terminated_[i] || truncated_[i]; }
  bool terminated(int i) const { return terminated_[i]; }
  // Cut by a time limit and not terminated (SB3's TimeLimit.truncated).
  bool truncated(int i) const { return truncated_[i] && !terminated_[i]; }
  // The last observation of the episode that ended in this step (valid when done(i)).
  std::span<const double> terminal_observation(int i) const {
    return std::span(terminal_observations_).subspan(i * observation_size_, observation_size_);
  }
  // Episodes that ended in this step, with the environment's index.
  const std::vector<std::pair<int, EpisodeStats>>& finished_episodes() const { return finished_; }

  // When on, each step records every environment's Env::info() before any reset (for callbacks).
  void record_info(bool on) { record_info_ = on; }
  const std::vector<std::vector<std::pair<std::string, double>>>& infos() const { return infos_; }

 private:
  std::vector<std::unique_ptr<Env>> envs_;
  std::size_t observation_size_;
  std::uint64_t seed_;
  std::vector<nn::Rng> episode_seeds_;
  std::vector<double> observations_, terminal_observations_, rewards_;
  std::vector<std::uint8_t> terminated_, truncated_;
  std::vector<EpisodeStats> running_;
  std::vector<std::pair<int, EpisodeStats>> finished_;
  bool record_info_ = false;
  std::vector<std::vector<std::pair<std::string, double>>> infos_;
};

}  // namespace maestro::rl
