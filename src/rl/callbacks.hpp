// The training callbacks the original project used with SB3: periodic evaluation that keeps the best
// policy, a CSV log of SB3's scalars, pod tracking (the replicas each step leads to), and a progress bar.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <vector>

#include "nn/policy_file.hpp"
#include "rl/ppo.hpp"

namespace maestro::rl {

// SB3's EvalCallback: every `every_steps` steps, `episodes` deterministic episodes on its own environment
// (episode k seeded seed + k, the same episodes each time); the best policy by mean return is kept.
class EvalCallback final : public Callback {
 public:
  struct Result {
    std::uint64_t steps;
    double mean_return, std_return;
  };

  EvalCallback(std::unique_ptr<Env> env, std::uint64_t every_steps, int episodes, std::uint64_t seed);

  void on_training_start(const PpoTrainer& trainer) override;
  void on_step(const PpoTrainer& trainer) override;

  const std::vector<Result>& results() const { return results_; }
  // The best policy so far (none before the first evaluation).
  const std::optional<nn::PolicyFile>& best() const { return best_; }

 private:
  std::unique_ptr<Env> env_;
  std::uint64_t every_steps_, next_at_ = 0;
  int episodes_;
  std::uint64_t seed_;
  std::vector<Result> results_;
  std::optional<nn::PolicyFile> best_;
  double best_mean_ = 0;
};

// One CSV row per iteration with SB3's logged names as columns.
class CsvLogCallback final : public Callback {
 public:
  explicit CsvLogCallback(std::ostream& out) : out_(out) {}
  void on_training_start(const PpoTrainer& trainer) override;
  void on_iteration(const PpoTrainer& trainer) override;

 private:
  std::ostream& out_;
  std::uint64_t steps_at_start_ = 0;
};

// One CSV row per environment per step: step, env, action, and the environment's "replicas" info if it
// reports one (empty otherwise).
class PodTrackingCallback final : public Callback {
 public:
  // Asks `env` (the one being trained on) to record its infos each step.
  PodTrackingCallback(std::ostream& out, VecEnv& env) : out_(out) { env.record_info(true); }
  void on_training_start(const PpoTrainer& trainer) override;
  void on_step(const PpoTrainer& trainer) override;

 private:
  std::ostream& out_;
};

// A one-line progress bar (carriage return, at most ~5 updates per second): percent, steps, steps/s and
// the mean return of recent episodes.
class ProgressBar final : public Callback {
 public:
  explicit ProgressBar(std::ostream& out) : out_(out) {}
  void on_iteration(const PpoTrainer& trainer) override;
  void on_training_end(const PpoTrainer& trainer) override;

 private:
  void draw(const PpoTrainer& trainer);
  std::ostream& out_;
  double last_drawn_ = -1;
};

// Mean return and length of the recent episodes (NaN when none has finished yet).
double mean_episode_return(const PpoTrainer& trainer);
double mean_episode_length(const PpoTrainer& trainer);

}  // namespace maestro::rl
