#include "eval/runner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <numeric>
#include <thread>

#include "core/reward.hpp"
#include "eval/oracle.hpp"

namespace maestro::eval {

namespace {
constexpr int kRewardInterval = 15;  // the control interval the reward is computed at (DESIGN §2)
}  // namespace

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
  score.scaling_actions_per_hour = totals.scaling_actions / (scenario.duration_seconds / 3600.0);
  score.mean_reward = rewards > 0 ? reward_sum / rewards : 0;
  score.arrivals = totals.arrivals;
  score.served_requests = totals.served;
  score.requests_over_soft = totals.requests_over_soft;
  score.requests_over_hard = totals.requests_over_hard;
  score.queued_at_end = cluster.queued();
  score.share_over_soft =
      totals.arrivals > 0
          ? (score.requests_over_soft + score.dropped_requests + score.queued_at_end) / totals.arrivals
          : 0;
  return score;
}

double student_t_975(int degrees_of_freedom) {
  // t(0.975, df) for df = 1..30; beyond, 1.96 + 2.4 / df is within 0.002 of it.
  static constexpr double kTable[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                      2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                      2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (degrees_of_freedom < 1) return 0;
  if (degrees_of_freedom <= 30) return kTable[degrees_of_freedom - 1];
  return 1.96 + 2.4 / degrees_of_freedom;
}

Spread spread_of(const std::vector<double>& values) {
  Spread spread;
  if (values.empty()) return spread;
  const double n = static_cast<double>(values.size());
  spread.mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
  double squares = 0;
  for (double v : values) squares += (v - spread.mean) * (v - spread.mean);
  spread.sd = values.size() > 1 ? std::sqrt(squares / (n - 1)) : 0;
  spread.ci95 =
      values.size() > 1 ? student_t_975(static_cast<int>(values.size()) - 1) * spread.sd / std::sqrt(n) : 0;
  spread.min = *std::min_element(values.begin(), values.end());
  spread.max = *std::max_element(values.begin(), values.end());
  return spread;
}

std::string training_data_note(const Scenario& scenario, const std::vector<nn::DataWindow>& training_data) {
  if (training_data.empty()) return "training data unknown";
  const auto& traffic = scenario.traffic;
  const bool trace = traffic.kind == traffic::ShapeKind::kTrace;
  const std::string name =
      trace ? traffic.trace->name : "synthetic:" + std::string(traffic::shape_name(traffic.kind));
  const double from = trace ? traffic.window_start_seconds : 0;
  const double to = from + scenario.duration_seconds;
  for (const auto& window : training_data) {
    if (window.trace != name) continue;
    if (!trace) return fmt::format("trained on this shape ({})", name);
    if (window.start_seconds < to && from < window.end_seconds)
      return fmt::format("TRAINED ON THIS WINDOW ({} s {:.0f}-{:.0f})", name,
                         std::max(from, window.start_seconds), std::min(to, window.end_seconds));
  }
  return "held out";
}

Evaluation evaluate(const Scenario& scenario, const std::vector<PolicyEntry>& policies,
                    const std::vector<std::uint64_t>& seeds,
                    const std::function<void(const std::string& policy, std::uint64_t seed)>& progress,
                    unsigned threads) {
  Evaluation evaluation{scenario, seeds, {}, {}};
  std::vector<std::vector<double>> arrivals;
  for (const auto seed : seeds) arrivals.push_back(scenario_arrivals(scenario, seed));
  for (const auto& trace_arrivals : arrivals) {
    const auto bound = solve_oracle(oracle_problem(scenario, trace_arrivals));
    evaluation.oracle.pod_hours.push_back(bound.pod_seconds / 3600);
    evaluation.oracle.unmeetable_seconds =
        std::max(evaluation.oracle.unmeetable_seconds, bound.unmeetable_seconds);
  }
  evaluation.oracle.summary = spread_of(evaluation.oracle.pod_hours);

  // Every (policy, seed) run is independent: each writes only its own slot.
  evaluation.policies.resize(policies.size());
  for (std::size_t p = 0; p < policies.size(); ++p) {
    evaluation.policies[p].name = policies[p].name;
    evaluation.policies[p].role = policies[p].role;
    if (policies[p].training_data)
      evaluation.policies[p].data_note = training_data_note(scenario, *policies[p].training_data);
    evaluation.policies[p].sweep_point = policies[p].sweep_point;
    evaluation.policies[p].runs.resize(seeds.size());
  }
  const std::size_t total = policies.size() * seeds.size();
  std::atomic<std::size_t> next{0};
  std::mutex progress_mutex;
  const auto work = [&] {
    for (std::size_t job; (job = next.fetch_add(1)) < total;) {
      const std::size_t p = job / seeds.size(), i = job % seeds.size();
      auto& result = evaluation.policies[p];
      auto autoscaler = policies[p].make(scenario, arrivals[i]);
      result.runs[i] = run_once(scenario, arrivals[i], seeds[i], *autoscaler,
                                i == 0 && !result.sweep_point ? &result.series : nullptr);
      if (progress) {
        const std::lock_guard lock(progress_mutex);
        progress(policies[p].name, seeds[i]);
      }
    }
  };
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::jthread> workers;
  for (unsigned k = 1; k < std::min<std::size_t>(threads, total); ++k) workers.emplace_back(work);
  work();
  workers.clear();  // joins

  for (auto& result : evaluation.policies) {
    const auto column = [&](double RunScore::*field) {
      std::vector<double> values;
      for (const auto& run : result.runs) values.push_back(run.*field);
      return spread_of(values);
    };
    result.share_over_soft = column(&RunScore::share_over_soft);
    result.slo_violation_seconds_soft = column(&RunScore::slo_violation_seconds_soft);
    result.slo_violation_seconds_hard = column(&RunScore::slo_violation_seconds_hard);
    result.pod_hours = column(&RunScore::pod_hours);
    result.dropped_requests = column(&RunScore::dropped_requests);
    result.scaling_actions = column(&RunScore::scaling_actions);
    result.scaling_actions_per_hour = column(&RunScore::scaling_actions_per_hour);
    result.mean_reward = column(&RunScore::mean_reward);
    result.queued_at_end = column(&RunScore::queued_at_end);
  }
  return evaluation;
}

}  // namespace maestro::eval
