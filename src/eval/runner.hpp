// The evaluation protocol (DESIGN §5): every policy runs on the same scenario with the same seeds (the
// same arrivals and the same chaos schedule per seed); each run is scored on SLO-violation seconds (p95
// over the soft and over the hard constraint), pod-hours, dropped requests, scaling actions and the
// original reward (every 15 s on the reported metrics); scores are summarised over seeds.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "eval/autoscaler.hpp"
#include "eval/scenario.hpp"

namespace maestro::eval {

struct PolicyEntry {
  std::string name;
  std::function<std::unique_ptr<Autoscaler>(const Scenario&, std::span<const double> arrivals)> make;
};

struct RunScore {
  std::uint64_t seed = 0;
  double slo_violation_seconds_soft = 0;
  double slo_violation_seconds_hard = 0;
  double pod_hours = 0;
  double dropped_requests = 0;
  double scaling_actions = 0;
  double mean_reward = 0;
  double served_requests = 0;
};

// One second of a run: what the CSV time series holds.
struct SeriesRow {
  double time = 0;
  double rps = 0;  // requests arriving
  int replicas = 0;
  int ready_pods = 0;
  double p95_ms = 0;
  double cpu_percent = 0;  // of one core, all pods (as the observation)
  int action = 1;          // the last decision's direction: 0 down, 1 hold, 2 up
};

struct Spread {
  double mean = 0;
  double sd = 0;  // sample standard deviation over seeds (0 for one seed)
  double min = 0;
  double max = 0;
};

struct PolicyResult {
  std::string name;
  std::vector<RunScore> runs;     // one per seed, in seed order
  std::vector<SeriesRow> series;  // the first seed's run, second by second
  Spread slo_violation_seconds_soft, slo_violation_seconds_hard, pod_hours, dropped_requests, scaling_actions,
      mean_reward;
};

struct Evaluation {
  Scenario scenario;
  std::vector<std::uint64_t> seeds;
  std::vector<PolicyResult> policies;
};

// Runs every policy on every seed. `progress` (may be empty) hears each finished run.
Evaluation evaluate(const Scenario& scenario, const std::vector<PolicyEntry>& policies,
                    const std::vector<std::uint64_t>& seeds,
                    const std::function<void(const std::string& policy, std::uint64_t seed)>& progress = {});

// One run: `autoscaler` on the scenario with `arrivals`; fills `series` if given.
RunScore run_once(const Scenario& scenario, std::span<const double> arrivals, std::uint64_t seed,
                  Autoscaler& autoscaler, std::vector<SeriesRow>* series);

Spread spread_of(const std::vector<double>& values);

}  // namespace maestro::eval
