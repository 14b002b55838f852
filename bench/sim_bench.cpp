// Simulator speed: control steps per second (one step = set replicas, simulate 15 one-second ticks,
// report the five metrics), the same through sim::Env (features and reward added), and the per-episode
// cost of rendering traffic. Figures: items_per_second = control steps (or episodes) per second.
#include <benchmark/benchmark.h>

#include <random>

#include "eval/scenario.hpp"
#include "sim/cluster.hpp"
#include "sim/env.hpp"
#include "traffic/shape.hpp"

namespace {

using namespace maestro;

std::vector<double> diurnal_arrivals(int seconds) {
  traffic::ShapeSpec shape;
  shape.kind = traffic::ShapeKind::kDiurnal;
  shape.peak_rps = 800;
  shape.period_seconds = seconds;
  shape.noise = 0.1;
  std::mt19937_64 rng(1);
  return traffic::sample_arrivals(traffic::render_rates(shape, seconds, rng), rng);
}

// A policy-like pattern: replicas follow the load with a lag, so pods start and drain all the time.
int follow(double rps) {
  return std::max(1, static_cast<int>(rps / 70) + 1);
}

void BM_ClusterControlStep(benchmark::State& state) {
  sim::ClusterConfig config;
  config.chaos.pod_kills_per_hour = static_cast<double>(state.range(0));
  config.chaos.stress_per_hour = static_cast<double>(state.range(0));
  const auto arrivals = diurnal_arrivals(3000 * 200);
  sim::Cluster cluster(config);
  cluster.reset(arrivals, 1);
  core::Observation observation;
  for (auto _ : state) {
    if (cluster.now() + 15 > arrivals.size()) cluster.reset(arrivals, 1);
    cluster.set_replicas(state.range(1) ? follow(observation.rps) : 12);
    cluster.advance(15);
    observation = cluster.observe();
    benchmark::DoNotOptimize(observation);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["simulated_s_per_s"] =
      benchmark::Counter(15.0 * state.iterations(), benchmark::Counter::kIsRate);
}
// churn 1: replicas follow the load (pods start and drain most steps); churn 0: a fixed 12 replicas.
BENCHMARK(BM_ClusterControlStep)->ArgsProduct({{0, 6}, {0, 1}})->ArgNames({"chaos_per_hour", "churn"});

void BM_EnvStep(benchmark::State& state) {
  sim::EnvConfig config;
  traffic::ShapeSpec shape;
  shape.kind = traffic::ShapeKind::kDiurnal;
  shape.peak_rps = 800;
  shape.noise = 0.1;
  config.traffic.shapes = {shape};
  config.features.set = state.range(0) ? core::FeatureSet::kExtended : core::FeatureSet::kOriginal;
  sim::Env env(config);
  std::vector<double> observation(env.observation_size());
  std::uint64_t episode = 0;
  env.reset(episode, observation);
  for (auto _ : state) {
    const int action = observation[4] > 70 * observation[2]   ? 2
                       : observation[4] < 50 * observation[2] ? 0
                                                              : 1;
    const auto result = env.step(action, observation);
    if (result.terminated || result.truncated) {
      state.PauseTiming();  // episode rendering is measured on its own below
      env.reset(++episode, observation);
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EnvStep)->Arg(0)->Arg(1)->ArgName("extended");

void BM_EnvEpisodeTraffic(benchmark::State& state) {
  // What a reset costs: drawing the shape, rendering 3015 s of rates and sampling Poisson arrivals.
  const auto scenario = eval::resolve_scenario("worldcup", {}, MAESTRO_SHARED_DIR);
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    auto arrivals = traffic::sample_arrivals(traffic::render_rates(scenario->traffic, 3015, rng), rng);
    benchmark::DoNotOptimize(arrivals.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EnvEpisodeTraffic);

}  // namespace
