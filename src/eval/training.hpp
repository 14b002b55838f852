// Training on the simulator: the sim::Env settings for a scenario. The scenario gives the service, its
// SLO and the base traffic; every episode then draws its own window (trace scenarios: only inside the
// trace's training window, traffic/splits.hpp, at real time) and peak (×0.5–1.5), or for synthetic shapes
// its timing, base level and noise. The scenario "mix" (the default) trains on the NASA and World Cup
// traces and every synthetic shape together; "traces" on the two traces' training windows alone.
//
// And the recommended recipe (`maestro train --env sim` without other flags, `maestro demo`): each seed's
// actor first cloned from foresight on the traces' training windows (eval/imitation.hpp), then PPO on
// that environment held near the clone, with several seeds, the policy of each scored on validation
// scenarios at what the cost reward prices (pods, requests over the SLO, scaling actions) and the cheapest
// kept.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "base/clock.hpp"
#include "base/error.hpp"
#include "core/features.hpp"
#include "core/reward.hpp"
#include "eval/imitation.hpp"
#include "eval/runner.hpp"
#include "eval/scenario.hpp"
#include "nn/policy_file.hpp"
#include "rl/ppo.hpp"
#include "sim/env.hpp"

namespace maestro::eval {

Result<sim::EnvConfig> training_env_config(const std::string& scenario, const ScenarioOverrides& overrides,
                                           core::FeatureSet features,
                                           const std::filesystem::path& shared_dir);

// The traffic windows the training environment of `scenario` (as training_env_config made it) draws its
// episodes from, as the policy file records them: a trace by its file stem ("nasa-http-1995") with the
// seconds of it an episode may cover, a synthetic shape as "synthetic:NAME" over one episode.
std::vector<nn::DataWindow> training_data(const std::string& scenario, const sim::EnvConfig& config);

struct Recipe {
  rl::PpoConfig ppo;  // its anchor_kl_coef holds PPO near the clone: it applies only after cloning
  core::FeatureSet features = core::FeatureSet::kLong;
  std::uint64_t steps = 0;                        // per training seed
  int seeds = 0;                                  // training seeds: seed, seed + 1, …
  std::vector<std::string> validation_scenarios;  // never trained or tested on
  int validation_seeds = 0;                       // evaluation seeds per validation scenario
  // Clone foresight on these (built-in) scenarios before PPO; they need the shared traces.
  std::vector<std::string> cloning_scenarios;
  CloningOptions cloning;
};

// The recommended recipe; the environment is training_env_config("mix") with the sim::EnvConfig defaults
// (multi actions, cost reward) and the cluster randomisation on.
Recipe recommended_recipe();

// What a run cost, as the cost reward prices a control interval, averaged over the run's intervals: the
// pods billed (÷ max replicas), the share of requests over the soft SLO, and the scaling actions.
// Lower is better.
double run_cost(const RunScore& run, const Scenario& scenario, const core::CostWeights& weights);

struct TrainedSeed {
  std::uint64_t seed = 0;
  nn::PolicyFile policy;
  double seconds = 0;          // training time
  double validation_cost = 0;  // mean run_cost over the validation scenarios × seeds (0 if none)
};

using EnvFactory = std::function<std::unique_ptr<rl::Env>()>;
// The callbacks (progress, logs) for one seed's training; they must outlive it.
using SeedCallbacks = std::function<std::vector<rl::Callback*>(std::uint64_t seed)>;

// Trains one policy per seed (each with `ppo.n_envs` environments from `make_env`) for `steps`, and
// scores each on `validation` (validation_seeds seeds each) with `weights`; up to `parallel` seeds at
// once, each on a thread of its own. Environments and callbacks are made on the calling thread (their
// factories need not be thread-safe), but callbacks shared between seeds must be when parallel > 1.
// Deterministic per seed, whatever `parallel`; the result is in the order of `seeds`.
Result<std::vector<TrainedSeed>> train_seeds(
    const rl::PpoConfig& ppo, const rl::PolicyDescription& description, const EnvFactory& make_env,
    std::uint64_t steps, std::span<const std::uint64_t> seeds, const std::vector<Scenario>& validation,
    int validation_seeds, const core::CostWeights& weights, const SeedCallbacks& callbacks,
    const base::Clock& clock, int parallel = 1,
    const std::function<void(rl::PpoTrainer&)>& before_learning = {});

// The index of the cheapest on validation (the first of equals).
std::size_t best_on_validation(std::span<const TrainedSeed> trained);

}  // namespace maestro::eval
