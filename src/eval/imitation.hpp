// Cloning foresight (an experiment, `maestro train --imitate PRICE`): the oracle's priced schedule
// (oracle.hpp) run through a policy's own features and actions, so that a network can be cloned from what
// a clairvoyant autoscaler does, before PPO takes over (or instead of it). At each decision the action
// labelled is the one of the set whose replicas come nearest to what the schedule asks for (the fewer pods
// on a tie); the features are the ones the policy sees there. DAgger (Ross et al., 2011): after the first
// round on the schedule's own runs, each round runs the policy cloned so far and labels the states it
// reaches, so that the policy learns what to do where its own mistakes lead.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/action_set.hpp"
#include "core/features.hpp"
#include "eval/scenario.hpp"
#include "nn/policy_file.hpp"
#include "rl/ppo.hpp"

namespace maestro::eval {

struct Demonstrations {
  std::size_t feature_size = 0;
  std::vector<double> features;  // one row of feature_size per decision
  std::vector<int> actions;      // the action taken at each
};

struct CloningOptions {
  double violation_price = 0.5;  // the schedule's price of a request over the SLO, pod-seconds
  double change_cost = 0;        // and of a change of its ready pods (oracle.hpp), pod-seconds
  int rounds = 5;                // the first on the schedule's runs, then the policy's
  int epochs = 20;               // passes over all demonstrations so far, each round
  double learning_rate = 3e-4;
};

// Appends one run's decisions on `scenario` over `arrivals` to `out`, of the schedule at `prices`. With
// `learner`, the run follows the learner's actions while the schedule's are recorded (DAgger: the states a
// learner reaches, labelled).
void demonstrate(const Scenario& scenario, std::span<const double> arrivals, std::uint64_t seed,
                 const core::FeatureSpec& features, const core::ActionSet& actions,
                 const CloningOptions& prices, Demonstrations& out,
                 const std::function<int(std::span<const double>)>& learner = {});

// Clones the schedule on `scenarios` into `trainer`'s actor (before its learn()); the features and
// actions are the trainer's environment's. Each round's share of demonstrations cloned goes to `progress`.
using CloningProgress = std::function<void(int round, std::size_t decisions, double cloned)>;
void clone_foresight(rl::PpoTrainer& trainer, const std::vector<Scenario>& scenarios,
                     const core::FeatureSpec& features, const core::ActionSet& actions,
                     const CloningOptions& options, const CloningProgress& progress = {});

// clone_foresight as the step before each seed's PPO (train_seeds' before_learning); it keeps its own
// copies, and seeds may call it from several threads at once (`progress` too).
std::function<void(rl::PpoTrainer&)> cloning_step(std::vector<Scenario> scenarios, core::FeatureSpec features,
                                                  core::ActionSet actions, CloningOptions options,
                                                  CloningProgress progress = {});

// Adds to the policy file's hyperparameters how its actor was cloned before PPO (imitate_*), so that the
// file says how it was made.
void record_cloning(const CloningOptions& options, const std::vector<Scenario>& scenarios,
                    nn::PolicyFile& policy);

}  // namespace maestro::eval
