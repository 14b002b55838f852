// PPO's hyperparameters with Stable-Baselines3's names and defaults, the named presets, and reading them
// from YAML (the keys below, as rl-zoo writes them; a schedule is a number or "lin_<initial>").
//
//   preset           what it is
//   sb3              SB3 PPO("MlpPolicy") defaults
//   rl-zoo-cartpole  rl-baselines3-zoo's CartPole-v1: 8 envs, n_steps 32, batch 256, γ 0.98, λ 0.8, 20
//   epochs,
//                    lr lin_0.001, clip lin_0.2, ent_coef 0
//   original         the original MAESTRO project: SB3 defaults with n_steps 1024 and ent_coef 0.01
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"

namespace maestro::rl {

// A constant, or linear from `initial` at the start to 0 at the end of training (rl-zoo's lin_<x>).
struct Schedule {
  double initial = 0;
  bool linear = false;

  // progress_remaining goes from 1 (start) to 0 (end), as SB3's.
  double at(double progress_remaining) const { return linear ? progress_remaining * initial : initial; }
  std::string to_string() const;
  static Result<Schedule> parse(std::string_view text);
  friend bool operator==(const Schedule&, const Schedule&) = default;
};

struct PpoConfig {
  int n_envs = 1;
  int n_steps = 2048;  // per environment, per rollout
  int batch_size = 64;
  int n_epochs = 10;
  Schedule learning_rate{3e-4};
  Schedule clip_range{0.2};
  std::optional<Schedule> clip_range_vf;  // value clipping, off by default
  double gamma = 0.99;
  double gae_lambda = 0.95;
  double ent_coef = 0.0;
  double vf_coef = 0.5;
  double max_grad_norm = 0.5;
  std::optional<double> target_kl;
  bool normalize_advantage = true;
  double adam_eps = 1e-5;
  std::vector<int> actor_hidden = {64, 64};
  std::vector<int> critic_hidden = {64, 64};
  bool normalize_observations = false;  // VecNormalize's observation part
  // Not SB3's: the weight of KL(π ‖ π_start) in the actor's loss, π_start the policy as learn() begins
  // (after cloning or from --init-policy), so that PPO improves on it without forgetting it. 0: off.
  double anchor_kl_coef = 0;
  // Threads for training: 2 computes the actor's and the critic's gradients in parallel, with one
  // hand-over per minibatch, and the critic's values of a rollout while it is collected; that pays only on
  // otherwise idle cores, so 0 (the default) takes 2 when rl::free_cores() finds two free and 1 otherwise.
  // Results are the same either way.
  int threads = 0;

  friend bool operator==(const PpoConfig&, const PpoConfig&) = default;
};

Result<PpoConfig> preset(std::string_view name);
std::vector<std::string_view> preset_names();

Result<PpoConfig> validate(const PpoConfig& config);

// Applies the keys of a YAML mapping over `config`; an unknown key or a bad value is an error naming it.
Result<PpoConfig> apply_yaml(PpoConfig config, std::string_view yaml_text);

// name → value, as saved in the policy file (and accepted back by apply_yaml).
std::vector<std::pair<std::string, std::string>> hyperparameters(const PpoConfig& config);

}  // namespace maestro::rl
