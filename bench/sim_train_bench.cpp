// PPO training speed on the simulator: environment steps per second of rl::PpoTrainer on 8 sim::Env
// (collection and the update, the demo's settings), for the original and the extended feature set.
// Figure: items_per_second = training steps per second.
#include <benchmark/benchmark.h>

#include "base/clock.hpp"
#include "eval/training.hpp"
#include "nn/policy_file.hpp"
#include "rl/ppo.hpp"
#include "rl/vec_env.hpp"
#include "sim/env.hpp"

namespace {

using namespace maestro;

void BM_PpoTrainingOnSim(benchmark::State& state) {
  const auto features = state.range(0) ? core::FeatureSet::kExtended : core::FeatureSet::kOriginal;
  const auto env_config = eval::training_env_config("mix", {}, features, MAESTRO_SHARED_DIR);
  if (!env_config) {
    state.SkipWithError(env_config.error().message.c_str());
    return;
  }
  rl::PpoConfig config;
  config.n_envs = 8;
  config.n_steps = 256;
  config.batch_size = 256;
  config.normalize_observations = true;
  constexpr std::uint64_t kSteps = 8 * 256 * 4;  // four rollouts and updates
  const base::RealClock clock;
  for (auto _ : state) {
    std::vector<std::unique_ptr<rl::Env>> envs;
    for (int i = 0; i < config.n_envs; ++i) envs.push_back(std::make_unique<sim::Env>(*env_config));
    rl::VecEnv vec_env(std::move(envs), 1);
    rl::PpoTrainer trainer(config, sim::policy_description(*env_config, "sim", {}), vec_env, 1, clock);
    trainer.learn(kSteps);
    benchmark::DoNotOptimize(trainer.steps());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kSteps));
}
BENCHMARK(BM_PpoTrainingOnSim)
    ->Arg(0)
    ->Arg(1)
    ->ArgName("extended")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
