// The whole PPO training loop on CartPole-v1 with Stable-Baselines3's default settings and one environment
// (n_steps 2048, batch 64, 10 epochs): environment steps per second, rollouts and updates included.
// For scale: SB3 2.4.1 runs this configuration at about 2,800 steps/s on this kind of machine.
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>

#include "rl/cartpole.hpp"
#include "rl/ppo.hpp"

namespace {

using namespace maestro;

void train_cartpole(benchmark::State& state, rl::PpoConfig config) {
  const std::uint64_t steps = static_cast<std::uint64_t>(state.range(0));
  const rl::PolicyDescription description{"cartpole", "cartpole", 0, "cartpole", {"push_left", "push_right"},
                                          "cartpole", {},         {}};
  std::uint64_t total = 0;
  for (auto _ : state) {
    std::vector<std::unique_ptr<rl::Env>> envs;
    for (int i = 0; i < config.n_envs; ++i) envs.push_back(std::make_unique<rl::CartPole>());
    rl::VecEnv env(std::move(envs), 1);
    auto policy = rl::train(config, description, env, steps, 1);
    benchmark::DoNotOptimize(policy);
    total += policy->metadata.steps;
  }
  state.counters["steps_per_second"] = benchmark::Counter(double(total), benchmark::Counter::kIsRate);
}

void BM_PpoCartPoleSb3Defaults(benchmark::State& state) {
  rl::PpoConfig config = *rl::preset("sb3");
  config.threads = static_cast<int>(state.range(1));
  train_cartpole(state, config);
}
// 10 rollouts of 2048 steps, each followed by 10 epochs of 32 minibatches; one thread and two.
BENCHMARK(BM_PpoCartPoleSb3Defaults)
    ->ArgsProduct({{20480}, {1, 2}})
    ->ArgNames({"steps", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

void BM_PpoCartPoleRlZoo(benchmark::State& state) {
  rl::PpoConfig config = *rl::preset("rl-zoo-cartpole");
  config.threads = static_cast<int>(state.range(1));
  train_cartpole(state, config);
}
// rl-zoo's CartPole settings (8 envs, batch 256, 20 epochs): the learning test's configuration.
BENCHMARK(BM_PpoCartPoleRlZoo)
    ->ArgsProduct({{25600}, {1, 2}})
    ->ArgNames({"steps", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Repetitions(3)
    ->ReportAggregatesOnly(true);

}  // namespace
