#include "eval/oracle.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>

#include "eval/baselines.hpp"

namespace maestro::eval {
namespace {

constexpr double kInfinite = std::numeric_limits<double>::infinity();

double add_cost(const OracleProblem& problem, std::size_t t) {
  return std::min<double>(problem.startup_seconds, static_cast<double>(t));
}

double remove_cost(const OracleProblem& problem, std::size_t t) {
  return std::min<double>(problem.drain_seconds, static_cast<double>(problem.need.size() - t));
}

int floor_of_need(const OracleProblem& problem, std::size_t t) {
  return std::min(problem.need[t], problem.max_replicas);
}

}  // namespace

OracleSolution solve_oracle(const OracleProblem& problem) {
  const std::size_t seconds = problem.need.size();
  const int levels = problem.max_replicas + 1;
  const int initial = std::clamp(problem.initial_ready, 0, problem.max_replicas);
  OracleSolution solution;
  if (seconds == 0) return solution;
  // cost[r]: the cheapest way to have r pods ready in the current second; from[t][r]: the ready pods of
  // the second before on that way.
  std::vector<double> cost(levels, kInfinite), next(levels), up(levels), down(levels);
  cost[initial] = 0;  // before the run: the initial pods, which may be added to or removed at t = 0
  std::vector<std::uint16_t> from(seconds * static_cast<std::size_t>(levels));
  std::vector<int> up_from(levels), down_from(levels);
  const auto at = [&](std::size_t t, int r) -> std::uint16_t& {
    return from[t * static_cast<std::size_t>(levels) + static_cast<std::size_t>(r)];
  };
  for (std::size_t t = 0; t < seconds; ++t) {
    const int floor = floor_of_need(problem, t);
    solution.unmeetable_seconds += problem.need[t] > problem.max_replicas;
    // Adding k pods costs k × add_cost, removing k costs k × remove_cost, either one change_cost more: two
    // sweeps find the best predecessor of every level in O(levels). `move` is the cheapest way to the
    // current level from strictly below (above), `move_from` where from (the nearest on a tie).
    const double add = add_cost(problem, t), remove = remove_cost(problem, t), change = problem.change_cost;
    double move = kInfinite;
    int move_from = 0;
    for (int r = 0; r < levels; ++r) {
      up[r] = cost[r], up_from[r] = r;
      if (move + change < up[r]) up[r] = move + change, up_from[r] = move_from;
      if (cost[r] <= move) move = cost[r], move_from = r;
      move += add;
    }
    move = kInfinite;
    for (int r = levels - 1; r >= 0; --r) {
      down[r] = cost[r], down_from[r] = r;
      if (move + change < down[r]) down[r] = move + change, down_from[r] = move_from;
      if (cost[r] <= move) move = cost[r], move_from = r;
      move += remove;
    }
    const bool priced = problem.violation_price > 0;
    for (int r = 0; r < levels; ++r) {
      if (!priced && r < floor) {
        next[r] = kInfinite;
        continue;
      }
      const bool rise = up[r] <= down[r];
      next[r] = (rise ? up[r] : down[r]) + r;
      if (priced)
        next[r] += problem.violation_price *
                   problem.over[t * static_cast<std::size_t>(levels) + static_cast<std::size_t>(r)];
      at(t, r) = static_cast<std::uint16_t>(rise ? up_from[r] : down_from[r]);
    }
    std::swap(cost, next);
  }
  const auto best = std::min_element(cost.begin(), cost.end());
  solution.pod_seconds = *best;
  solution.ready.resize(seconds);
  int r = static_cast<int>(best - cost.begin());
  for (std::size_t t = seconds; t-- > 0;) {
    solution.ready[t] = r;
    r = at(t, r);
  }
  return solution;
}

double oracle_schedule_cost(const OracleProblem& problem, std::span<const int> ready) {
  assert(ready.size() == problem.need.size());
  double total = 0;
  int previous = std::clamp(problem.initial_ready, 0, problem.max_replicas);
  const bool priced = problem.violation_price > 0;
  const auto levels = static_cast<std::size_t>(problem.max_replicas) + 1;
  for (std::size_t t = 0; t < ready.size(); ++t) {
    if ((!priced && ready[t] < floor_of_need(problem, t)) || ready[t] < 0 || ready[t] > problem.max_replicas)
      return kInfinite;
    if (priced)
      total += problem.violation_price * problem.over[t * levels + static_cast<std::size_t>(ready[t])];
    if (ready[t] > previous) total += (ready[t] - previous) * add_cost(problem, t) + problem.change_cost;
    if (ready[t] < previous) total += (previous - ready[t]) * remove_cost(problem, t) + problem.change_cost;
    total += ready[t];
    previous = ready[t];
  }
  return total;
}

double shortest_startup_seconds(const sim::StartupModel& startup) {
  if (startup.distribution == sim::StartupDistribution::kLogNormal) return 0;
  return startup.median_seconds * std::max(0.0, 1 - startup.spread);
}

OracleProblem oracle_problem(const Scenario& scenario, std::span<const double> arrivals,
                             double violation_price, double change_cost) {
  const auto& config = scenario.cluster;
  OracleProblem problem;
  problem.need.reserve(arrivals.size());
  for (const double requests : arrivals) problem.need.push_back(pods_needed(config, requests));
  problem.violation_price = violation_price;
  problem.change_cost = change_cost;
  if (violation_price > 0) {
    const auto levels = static_cast<std::size_t>(config.bounds.max) + 1;
    problem.over.assign(arrivals.size() * levels, 0.0f);
    for (std::size_t t = 0; t < arrivals.size(); ++t) {
      // The share over only falls as pods are added: stop once it is 0.
      for (std::size_t r = 0; r < levels; ++r) {
        const double over =
            arrivals[t] * (1 - sim::steady_share_within_soft_slo(config, arrivals[t], static_cast<int>(r)));
        problem.over[t * levels + r] = static_cast<float>(over);
        if (over <= 0) break;
      }
    }
  }
  problem.initial_ready = initial_replicas_for(scenario, arrivals);
  problem.max_replicas = config.bounds.max;
  problem.startup_seconds = static_cast<int>(std::floor(shortest_startup_seconds(config.startup)));
  problem.drain_seconds = static_cast<int>(std::floor(config.drain_seconds));
  return problem;
}

int OracleScheduleAutoscaler::decide(const sim::Cluster& cluster, const core::Observation&) {
  double lead = 0;
  for (int k = 0; k < 8; ++k) lead = std::max(lead, cluster.upcoming_startup_delay(k));
  const auto from = static_cast<std::size_t>(cluster.now());
  const auto to = std::min(ready_.size(), from + static_cast<std::size_t>(std::ceil(lead)) + 1);
  int desired = cluster.config().bounds.min;
  for (std::size_t t = from; t < to; ++t) desired = std::max(desired, ready_[t]);
  return desired;
}

}  // namespace maestro::eval
