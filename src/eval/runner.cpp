#include "eval/runner.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/reward.hpp"

namespace maestro::eval {

namespace {
constexpr int kRewardInterval = 15;  // the control interval the reward is computed at (DESIGN §2)
}

RunScore run_once(const Scenario& scenario, std::span<const double> arrivals, std::uint64_t seed,
                  Autoscaler& autoscaler, std::vector<SeriesRow>* series) {
  sim::Cluster cluster(scenario.cluster);
  cluster.reset(arrivals, seed, initial_replicas_for(scenario, arrivals));
  autoscaler.reset(cluster);
  const int period = std::max(1, autoscaler.period_seconds());
  const auto& config = scenario.cluster;
  core::Observation observation = cluster.observe();
  double reward_sum = 0;
  int rewards = 0;
  int action = static_cast<int>(core::Action::kHold);
  if (series) series->reserve(static_cast<std::size_t>(scenario.duration_seconds));
  for (int t = 0; t < scenario.duration_seconds; ++t) {
    if (t > 0 && t % kRewardInterval == 0) {
      observation = cluster.observe();
      reward_sum +=
          core::compute_reward(cluster.replicas(), config.bounds.max, observation.latency, config.slo).value;
      ++rewards;
    }
    if (t > 0 && t % period == 0) {
      const int before = cluster.replicas();
      cluster.set_replicas(autoscaler.decide(cluster, observation));
      const int after = cluster.replicas();
      action = static_cast<int>(after > before   ? core::Action::kScaleUp
                                : after < before ? core::Action::kScaleDown
                                                 : core::Action::kHold);
    }
    cluster.advance(1);
    autoscaler.observe_second(cluster);
    if (series) {
      const auto& tick = cluster.last_tick();
      series->push_back(SeriesRow{tick.time, tick.arrivals, tick.replicas, tick.ready_pods, tick.p95_ms,
                                  100 * tick.cpu_cores, action});
    }
  }
  const auto& totals = cluster.totals();
  RunScore score;
  score.seed = seed;
  score.slo_violation_seconds_soft = totals.seconds_over_soft;
  score.slo_violation_seconds_hard = totals.seconds_over_hard;
  score.pod_hours = totals.pod_seconds / 3600;
  score.dropped_requests = totals.dropped;
  score.scaling_actions = totals.scaling_actions;
  score.mean_reward = rewards > 0 ? reward_sum / rewards : 0;
  score.served_requests = totals.served;
  return score;
}

Spread spread_of(const std::vector<double>& values) {
  Spread spread;
  if (values.empty()) return spread;
  const double n = static_cast<double>(values.size());
  spread.mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
  double squares = 0;
  for (double v : values) squares += (v - spread.mean) * (v - spread.mean);
  spread.sd = values.size() > 1 ? std::sqrt(squares / (n - 1)) : 0;
  spread.min = *std::min_element(values.begin(), values.end());
  spread.max = *std::max_element(values.begin(), values.end());
  return spread;
}

Evaluation evaluate(const Scenario& scenario, const std::vector<PolicyEntry>& policies,
                    const std::vector<std::uint64_t>& seeds,
                    const std::function<void(const std::string& policy, std::uint64_t seed)>& progress) {
  Evaluation evaluation{scenario, seeds, {}};
  std::vector<std::vector<double>> arrivals;
  for (const auto seed : seeds) arrivals.push_back(scenario_arrivals(scenario, seed));
  for (const auto& entry : policies) {
    PolicyResult result;
    result.name = entry.name;
    for (std::size_t i = 0; i < seeds.size(); ++i) {
      auto autoscaler = entry.make(scenario, arrivals[i]);
      result.runs.push_back(
          run_once(scenario, arrivals[i], seeds[i], *autoscaler, i == 0 ? &result.series : nullptr));
      if (progress) progress(entry.name, seeds[i]);
    }
    const auto column = [&](double RunScore::*field) {
      std::vector<double> values;
      for (const auto& run : result.runs) values.push_back(run.*field);
      return spread_of(values);
    };
    result.slo_violation_seconds_soft = column(&RunScore::slo_violation_seconds_soft);
    result.slo_violation_seconds_hard = column(&RunScore::slo_violation_seconds_hard);
    result.pod_hours = column(&RunScore::pod_hours);
    result.dropped_requests = column(&RunScore::dropped_requests);
    result.scaling_actions = column(&RunScore::scaling_actions);
    result.mean_reward = column(&RunScore::mean_reward);
    evaluation.policies.push_back(std::move(result));
  }
  return evaluation;
}

}  // namespace maestro::eval
