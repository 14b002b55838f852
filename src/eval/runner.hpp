// The evaluation protocol (DESIGN §5): every policy runs on the same scenario with the same seeds (the
// same arrivals and the same chaos schedule per seed); each run is scored on the share of requests over
// the soft SLO (served over it, dropped, or still queued at the end), SLO-violation seconds (p95 over the
// soft and over the hard constraint), pod-hours, dropped requests, scaling actions (and per hour) and the
// original reward (every 15 s on the reported metrics); scores are summarised over seeds as a mean with a
// 95 % confidence interval (Student t). Every evaluation also solves the oracle's lower bound on
// pod-hours for each seed's arrivals (eval/oracle.hpp). Runs go in parallel; results do not depend on how
// many threads ran them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eval/autoscaler.hpp"
#include "eval/scenario.hpp"
#include "nn/policy_file.hpp"

namespace maestro::eval {

// What a policy is in the comparison: the baselines (HPA, KPA, static) make the frontier; evaluated
// policies (trained ones) are judged against it; the oracle's schedule is shown but is neither.
enum class PolicyRole { kEvaluated, kBaseline, kOracleSchedule };

struct PolicyEntry {
  std::string name;
  std::function<std::unique_ptr<Autoscaler>(const Scenario&, std::span<const double> arrivals)> make;
  PolicyRole role = PolicyRole::kEvaluated;
  // One point of a sweep: scored like any policy, but no time series is kept (a sweep over a day at real
  // time would keep hundreds of megabytes of them).
  bool sweep_point = false;
  // Trained policies: the traffic windows their file says they were trained on (empty: not recorded).
  std::optional<std::vector<nn::DataWindow>> training_data = std::nullopt;
};

// Whether `scenario` replays data `training_data` holds: "TRAINED ON THIS WINDOW (…)", "held out", or
// "training data unknown" when nothing is recorded. A synthetic scenario counts as trained on when the
// policy trained on its shape ("synthetic:NAME").
std::string training_data_note(const Scenario& scenario, const std::vector<nn::DataWindow>& training_data);

struct RunScore {
  std::uint64_t seed = 0;
  double share_over_soft = 0;  // (requests served over the soft SLO + dropped + queued at the end) / arrivals
  double slo_violation_seconds_soft = 0;
  double slo_violation_seconds_hard = 0;
  double pod_hours = 0;
  double dropped_requests = 0;
  double scaling_actions = 0;
  double scaling_actions_per_hour = 0;
  double mean_reward = 0;
  double arrivals = 0;
  double served_requests = 0;
  double requests_over_soft = 0;  // served over the soft SLO
  double requests_over_hard = 0;
  double queued_at_end = 0;  // requests still waiting when the run ends
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
  double sd = 0;    // sample standard deviation over seeds (0 for one seed)
  double ci95 = 0;  // half-width of the 95 % confidence interval of the mean (Student t; 0 for one seed)
  double min = 0;
  double max = 0;
};

struct PolicyResult {
  std::string name;
  PolicyRole role = PolicyRole::kEvaluated;
  std::string data_note;  // whether the scenario's trace window is in the policy's training data, if known
  bool sweep_point = false;
  std::vector<RunScore> runs;     // one per seed, in seed order
  std::vector<SeriesRow> series;  // the first seed's run, second by second (empty for sweep points)
  Spread share_over_soft, slo_violation_seconds_soft, slo_violation_seconds_hard, pod_hours, dropped_requests,
      scaling_actions, scaling_actions_per_hour, mean_reward, queued_at_end;
};

// The oracle's lower bound on pod-hours at zero violations, per seed (eval/oracle.hpp).
struct OracleBound {
  std::vector<double> pod_hours;  // in seed order
  Spread summary;
  int unmeetable_seconds = 0;  // the most, over seeds, of seconds that even the maximum replicas cannot meet
};

struct Evaluation {
  Scenario scenario;
  std::vector<std::uint64_t> seeds;
  std::vector<PolicyResult> policies;
  OracleBound oracle;
};

// Runs every policy on every seed on `threads` threads (0: one per core). `progress` (may be empty) hears
// each finished run, from one thread at a time.
Evaluation evaluate(const Scenario& scenario, const std::vector<PolicyEntry>& policies,
                    const std::vector<std::uint64_t>& seeds,
                    const std::function<void(const std::string& policy, std::uint64_t seed)>& progress = {},
                    unsigned threads = 0);

// One run: `autoscaler` on the scenario with `arrivals`; fills `series` if given.
RunScore run_once(const Scenario& scenario, std::span<const double> arrivals, std::uint64_t seed,
                  Autoscaler& autoscaler, std::vector<SeriesRow>* series);

Spread spread_of(const std::vector<double>& values);

// The 97.5 % quantile of Student's t with `degrees_of_freedom` (≥ 1): the factor of a 95 % interval.
double student_t_975(int degrees_of_freedom);

}  // namespace maestro::eval
