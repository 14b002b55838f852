// One in-process inference of a 5→64→64→3 policy: normalise + actor forward + argmax (nn::Actor::act),
// and the full serving path from an observation (features + probabilities, nn::Policy::predict).
#include <vector>

#include <benchmark/benchmark.h>

#include "nn/policy.hpp"

namespace {

using namespace maestro;

nn::PolicyFile bench_policy() {
  nn::PolicyFile file = nn::untrained_autoscaling_policy(core::FeatureSpec{}, 7);
  file.normalizer.update(std::vector<double>{150, 0.2, 2, 80, 40, 30, 0.7, 1, 300, 5}, 2);
  return file;
}

void BM_NormaliseForwardArgmax(benchmark::State& state) {
  const nn::PolicyFile file = bench_policy();
  const nn::Actor actor(file);
  std::vector<double> features = {120.0, 0.4, 3.0, 95.0, 60.0};
  for (auto _ : state) {
    benchmark::DoNotOptimize(features.data());
    benchmark::DoNotOptimize(actor.act(features));
    features[0] += 1e-3;  // a new observation each time
  }
}
BENCHMARK(BM_NormaliseForwardArgmax)->Repetitions(10)->ReportAggregatesOnly(true);

void BM_PolicyPredictObservation(benchmark::State& state) {
  const auto policy = *nn::Policy::create(bench_policy());
  core::Observation observation{120.0, 3e8, 3.0, 95.0, 60.0};
  for (auto _ : state) {
    benchmark::DoNotOptimize(policy.predict(observation));
    observation.cpu_usage += 1e-3;
  }
}
BENCHMARK(BM_PolicyPredictObservation)->Repetitions(10)->ReportAggregatesOnly(true);

}  // namespace
