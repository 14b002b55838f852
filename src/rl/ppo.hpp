// PPO training as Stable-Baselines3's PPO.learn(): collect n_steps × n_envs transitions with the current
// policy (actions sampled), bootstrap episodes cut by a time limit with γ·V(terminal observation), compute
// GAE, then one update (ppo_update.hpp) with the learning rate and clip range of the schedule at the
// current progress; repeat until at least total_steps (whole rollouts, as SB3). Optionally normalises
// observations as VecNormalize (statistics updated while training, saved in the policy file).
//
// Reproducible: the seed fixes initialisation, environment seeds, action sampling and shuffling; wall time
// only feeds logs. This is the library entry point of `maestro train`, `maestro demo` and evaluation.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/error.hpp"
#include "nn/policy.hpp"
#include "nn/policy_file.hpp"
#include "rl/ppo_config.hpp"
#include "rl/ppo_update.hpp"
#include "rl/rollout_buffer.hpp"
#include "rl/vec_env.hpp"

namespace maestro::rl {

// What the trained policy file says about its environment besides the network.
struct PolicyDescription {
  std::string environment;                // e.g. "cartpole"
  std::string feature_set;                // a core::FeatureSet name, or the environment's observation
  double memory_limit_bytes_per_pod = 0;  // for the "original" feature set
  std::string action_set;                 // a core::ActionSet name, or the environment's own actions
  std::vector<std::string> action_names;
  std::string reward;  // a core reward name and its weights (core::reward_weights), or the environment's own
  std::vector<std::pair<std::string, double>> reward_weights;
  std::vector<nn::DataWindow> training_data;  // the traffic training draws from; empty if none
};

class PpoTrainer;

// Hooks into training, as SB3's callbacks. Each gets the trainer to read its state.
class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_training_start(const PpoTrainer&) {}
  virtual void on_step(const PpoTrainer&) {}       // after every vectorised environment step
  virtual void on_iteration(const PpoTrainer&) {}  // after each rollout and its update
  virtual void on_training_end(const PpoTrainer&) {}
};

class PpoTrainer {
 public:
  // The config must pass validate(); env's sizes define the network.
  PpoTrainer(const PpoConfig& config, PolicyDescription description, VecEnv& env, std::uint64_t seed,
             const base::Clock& clock);

  // Fine-tuning: continues from a trained policy, whose network and normalisation statistics replace the
  // fresh ones. Call before learn(); the policy's network must have the shape this trainer builds.
  Result<void> start_from(const nn::PolicyFile& policy);

  // Behaviour cloning before learn() (experiment): the observation statistics are updated with
  // `observations` (rows × observation size, raw), then the actor is fitted to the `actions` taken there by
  // cross-entropy, `epochs` passes of shuffled minibatches of batch_size with Adam. Returns the share of
  // rows whose most probable action is then the demonstrated one.
  double imitate(std::span<const double> observations, std::span<const int> actions, int epochs,
                 double learning_rate);

  // Trains until at least total_steps environment steps (counted over all environments).
  void learn(std::uint64_t total_steps, std::span<Callback* const> callbacks = {});

  // The current policy as a policy file (training time not recorded: see TrainingMetadata::trained_at).
  nn::PolicyFile policy() const;

  const PpoConfig& config() const { return config_; }
  const VecEnv& env() const { return env_; }
  std::uint64_t steps() const { return steps_; }
  std::uint64_t total_steps() const { return total_steps_; }
  int iteration() const { return iteration_; }
  double seconds() const;  // since learn() began
  // The last 100 finished episodes (SB3's ep_info_buffer), oldest first.
  const std::deque<EpisodeStats>& recent_episodes() const { return recent_episodes_; }
  const UpdateLog& last_update() const { return last_update_; }
  // The actions of the last step, one per environment.
  std::span<const int> last_actions() const { return actions_; }
  const nn::ActorCritic<float>& network() const { return network_; }
  const nn::ObservationNormalizer& normalizer() const { return normalizer_; }

 private:
  // The critic's values of the buffer's columns [first, end).
  void value_columns(int first, int end);
  void collect_rollout(std::span<Callback* const> callbacks);
  void observe(std::span<const double> raw, std::span<float> out);  // update statistics, normalise

  PpoConfig config_;
  PolicyDescription description_;
  VecEnv& env_;
  std::uint64_t seed_;
  const base::Clock& clock_;
  base::Clock::TimePoint start_{};

  nn::ActorCritic<float> network_;
  nn::ObservationNormalizer normalizer_;
  nn::Rng sample_rng_, shuffle_rng_;
  std::unique_ptr<HelperThread> helper_;  // with threads = 2 (or 0 and two cores free)
  PpoUpdater updater_;
  RolloutBuffer buffer_;
  // The critic's pass over the buffer's columns, kept between rollouts: allocated afresh each rollout,
  // its pages (~0.5 MB a layer for a whole buffer at SB3's defaults) were often returned to the system and
  // faulted in again.
  nn::Mlp<float>::Cache values_cache_;

  std::uint64_t steps_ = 0, total_steps_ = 0;
  int iteration_ = 0;
  std::vector<float> last_observations_;       // normalised, n_envs × observation_size
  std::vector<double> last_raw_observations_;  // as the environments gave them (kept only with an anchor)
  // The policy as learn() began, with the normalisation of then (anchor_kl_coef > 0).
  std::optional<nn::Actor> anchor_;
  std::vector<std::uint8_t> last_episode_starts_;
  std::vector<int> actions_;
  std::vector<double> scratch_;
  std::deque<EpisodeStats> recent_episodes_;
  UpdateLog last_update_;
};

// Trains a fresh policy and returns it as a policy file: rl::PpoTrainer for the common case.
Result<nn::PolicyFile> train(const PpoConfig& config, const PolicyDescription& description, VecEnv& env,
                             std::uint64_t total_steps, std::uint64_t seed,
                             std::span<Callback* const> callbacks = {});

struct Evaluation {
  double mean_return = 0, std_return = 0;  // population standard deviation, as SB3's evaluate_policy
  std::vector<double> returns;
  std::vector<int> lengths;
};

// Runs `episodes` episodes with the deterministic (most probable) action; episode k starts from seed + k.
// An episode that reaches max_episode_steps without ending is counted as it stands.
Evaluation evaluate(const nn::Actor& actor, Env& env, int episodes, std::uint64_t seed,
                    int max_episode_steps = 1'000'000);

}  // namespace maestro::rl
