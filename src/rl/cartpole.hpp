// CartPole-v1, a faithful port of Gymnasium 0.29.1's classic-control CartPole with its TimeLimit of 500
// steps: the learning check of the trainer. Dynamics in double as Gymnasium computes them (Euler
// integration); observations are rounded to float32 as Gymnasium returns them. Actions: 0 push left,
// 1 push right. Reward 1 every step, including the one that terminates the episode.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "rl/env.hpp"

namespace maestro::rl {

class CartPole final : public Env {
 public:
  static constexpr int kMaxEpisodeSteps = 500;

  std::size_t observation_size() const override { return 4; }
  int action_count() const override { return 2; }

  // State uniform in [−0.05, 0.05]⁴ from `seed`.
  void reset(std::uint64_t seed, std::span<double> observation) override;
  StepResult step(int action, std::span<double> observation) override;

  // (x, x_dot, theta, theta_dot), as Gymnasium's env.state; setting it starts a new episode.
  const std::array<double, 4>& state() const { return state_; }
  void set_state(const std::array<double, 4>& state);

 private:
  void observe(std::span<double> observation) const;

  std::array<double, 4> state_{};
  int elapsed_steps_ = 0;
  std::optional<int> steps_beyond_terminated_;
};

}  // namespace maestro::rl
