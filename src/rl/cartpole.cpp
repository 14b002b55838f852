#include "rl/cartpole.hpp"

#include <cassert>
#include <cmath>
#include <numbers>

#include "nn/random.hpp"

namespace maestro::rl {

namespace {
// Gymnasium's constants, by their names there.
constexpr double kGravity = 9.8;
constexpr double kMassCart = 1.0;
constexpr double kMassPole = 0.1;
constexpr double kTotalMass = kMassPole + kMassCart;
constexpr double kLength = 0.5;  // half the pole's length
constexpr double kPoleMassLength = kMassPole * kLength;
constexpr double kForceMag = 10.0;
constexpr double kTau = 0.02;
constexpr double kThetaThresholdRadians = 12 * 2 * std::numbers::pi / 360;
constexpr double kXThreshold = 2.4;
}  // namespace

void CartPole::reset(std::uint64_t seed, std::span<double> observation) {
  nn::Rng rng(seed);
  std::array<double, 4> state;
  for (double& s : state) s = -0.05 + 0.1 * rng.uniform();
  set_state(state);
  observe(observation);
}

void CartPole::set_state(const std::array<double, 4>& state) {
  state_ = state;
  elapsed_steps_ = 0;
  steps_beyond_terminated_.reset();
}

StepResult CartPole::step(int action, std::span<double> observation) {
  assert(action == 0 || action == 1);
  auto [x, x_dot, theta, theta_dot] = state_;
  const double force = action == 1 ? kForceMag : -kForceMag;
  const double costheta = std::cos(theta);
  const double sintheta = std::sin(theta);
  // The same expressions in the same order as Gymnasium, so that results agree to the last bit.
  const double temp = (force + kPoleMassLength * (theta_dot * theta_dot) * sintheta) / kTotalMass;
  const double thetaacc = (kGravity * sintheta - costheta * temp) /
                          (kLength * (4.0 / 3.0 - kMassPole * (costheta * costheta) / kTotalMass));
  const double xacc = temp - kPoleMassLength * thetaacc * costheta / kTotalMass;
  x = x + kTau * x_dot;
  x_dot = x_dot + kTau * xacc;
  theta = theta + kTau * theta_dot;
  theta_dot = theta_dot + kTau * thetaacc;
  state_ = {x, x_dot, theta, theta_dot};

  StepResult result;
  result.terminated = x < -kXThreshold || x > kXThreshold || theta < -kThetaThresholdRadians ||
                      theta > kThetaThresholdRadians;
  if (!result.terminated) {
    result.reward = 1.0;
  } else if (!steps_beyond_terminated_) {
    steps_beyond_terminated_ = 0;
    result.reward = 1.0;
  } else {
    // Stepping past the end, which the vectorised environments never do (they reset first).
    ++*steps_beyond_terminated_;
    result.reward = 0.0;
  }
  ++elapsed_steps_;
  result.truncated = elapsed_steps_ >= kMaxEpisodeSteps;  // Gymnasium's TimeLimit wrapper
  observe(observation);
  return result;
}

void CartPole::observe(std::span<double> observation) const {
  assert(observation.size() == 4);
  for (int i = 0; i < 4; ++i) observation[i] = static_cast<float>(state_[i]);
}

}  // namespace maestro::rl
