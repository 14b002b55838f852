// The whole PPO training loop on CartPole-v1 with Stable-Baselines3's default settings and one environment
// (n_steps 2048, batch 64, 10 epochs): environment steps per second, rollouts and updates included, on the
// baseline kernels with one thread, the kernels dispatched for this CPU (nn/kernels.hpp) with one thread and
// with two. The reference, measured outside the project on this kind of machine: SB3 2.4.1 + torch, same
// settings, 1,000–1,900 steps/s; x_reference_low and x_reference_high are the ratios to the band's ends;
// rollout_us_per_step and update_us_per_step split the wall time between the two phases (PhaseTimer).
#include <chrono>
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>

#include "nn/kernels.hpp"
#include "rl/cartpole.hpp"
#include "rl/ppo.hpp"

namespace {

using namespace maestro;

constexpr double kReferenceLow = 1000, kReferenceHigh = 1900;  // SB3 2.4.1 + torch, steps/s

// Wall time of each iteration's two phases: the rollout (to its last environment step) and the rest (the
// values, the advantages and the update). Reading the clock each step costs ~20 ns of the step.
class PhaseTimer : public rl::Callback {
 public:
  void on_training_start(const rl::PpoTrainer&) override { iteration_start_ = last_step_ = Clock::now(); }
  void on_step(const rl::PpoTrainer&) override { last_step_ = Clock::now(); }
  void on_iteration(const rl::PpoTrainer&) override {
    const auto now = Clock::now();
    rollout_seconds += std::chrono::duration<double>(last_step_ - iteration_start_).count();
    update_seconds += std::chrono::duration<double>(now - last_step_).count();
    iteration_start_ = now;
  }
  double rollout_seconds = 0, update_seconds = 0;

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point iteration_start_, last_step_;
};

void train_cartpole(benchmark::State& state, rl::PpoConfig config) {
  const std::uint64_t steps = static_cast<std::uint64_t>(state.range(0));
  const rl::PolicyDescription description{"cartpole", "cartpole", 0, "cartpole", {"push_left", "push_right"},
                                          "cartpole", {},         {}};
  std::uint64_t total = 0;
  PhaseTimer phases;
  rl::Callback* const callbacks[] = {&phases};
  for (auto _ : state) {
    std::vector<std::unique_ptr<rl::Env>> envs;
    for (int i = 0; i < config.n_envs; ++i) envs.push_back(std::make_unique<rl::CartPole>());
    rl::VecEnv env(std::move(envs), 1);
    auto policy = rl::train(config, description, env, steps, 1, callbacks);
    benchmark::DoNotOptimize(policy);
    total += policy->metadata.steps;
  }
  state.counters["rollout_us_per_step"] = 1e6 * phases.rollout_seconds / double(total);
  state.counters["update_us_per_step"] = 1e6 * phases.update_seconds / double(total);
  state.counters["steps_per_second"] = benchmark::Counter(double(total), benchmark::Counter::kIsRate);
  state.counters["x_reference_high"] =
      benchmark::Counter(double(total) / kReferenceHigh, benchmark::Counter::kIsRate);
  state.counters["x_reference_low"] =
      benchmark::Counter(double(total) / kReferenceLow, benchmark::Counter::kIsRate);
}

// Runs with the kernel set `dispatched` (0: baseline, 1: the one chosen for this CPU) and puts it back.
void with_kernels(benchmark::State& state, bool dispatched, const rl::PpoConfig& config) {
  const nn::kernels::KernelSet& chosen = nn::kernels::active();
  nn::kernels::set_active(dispatched ? chosen : nn::kernels::baseline());
  state.SetLabel(nn::kernels::active().name);
  train_cartpole(state, config);
  nn::kernels::set_active(chosen);
}

void BM_PpoCartPoleSb3Defaults(benchmark::State& state) {
  rl::PpoConfig config = *rl::preset("sb3");
  config.threads = static_cast<int>(state.range(2));
  with_kernels(state, state.range(1) != 0, config);
}
// 10 rollouts of 2048 steps, each followed by 10 epochs of 32 minibatches.
BENCHMARK(BM_PpoCartPoleSb3Defaults)
    ->Args({20480, 0, 1})
    ->Args({20480, 1, 1})
    ->Args({20480, 1, 2})
    ->ArgNames({"steps", "dispatched", "threads"})
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

// The kernels alone on a 64×64 layer and a minibatch of 64, per instruction set: multiply-adds per second.
void kernel_bench(benchmark::State& state, const char* set_name, int which) {
  const nn::kernels::KernelSet* k = nn::kernels::find(set_name);
  if (!k) return state.SkipWithError("not supported on this CPU");
  const int n = 64;
  std::vector<float> weight(n * n, 0.01f), bias(n, 0.1f), input(n * n, 0.5f), output(n * n),
      delta(n * n, 0.2f), scratch(n * n);
  for (auto _ : state) {
    if (which == 0)
      k->dense_forward(weight.data(), bias.data(), n, n, input.data(), n, n, output.data(), true);
    if (which == 1)
      k->dense_input_gradient(weight.data(), n, n, delta.data(), n, input.data(), output.data());
    if (which == 2)
      k->dense_weight_gradient(delta.data(), n, n, input.data(), n, n, output.data(), bias.data(),
                               scratch.data());
    benchmark::DoNotOptimize(output.data());
    benchmark::ClobberMemory();
  }
  state.counters["madd_per_second"] =
      benchmark::Counter(double(n) * n * n * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(kernel_bench, forward_baseline, "baseline", 0);
BENCHMARK_CAPTURE(kernel_bench, forward_v3, "x86-64-v3", 0);
BENCHMARK_CAPTURE(kernel_bench, forward_v4, "x86-64-v4", 0);
BENCHMARK_CAPTURE(kernel_bench, input_gradient_baseline, "baseline", 1);
BENCHMARK_CAPTURE(kernel_bench, input_gradient_v3, "x86-64-v3", 1);
BENCHMARK_CAPTURE(kernel_bench, input_gradient_v4, "x86-64-v4", 1);
BENCHMARK_CAPTURE(kernel_bench, weight_gradient_baseline, "baseline", 2);
BENCHMARK_CAPTURE(kernel_bench, weight_gradient_v3, "x86-64-v3", 2);
BENCHMARK_CAPTURE(kernel_bench, weight_gradient_v4, "x86-64-v4", 2);

}  // namespace
