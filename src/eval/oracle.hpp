// The oracle (DESIGN §5): a true lower bound on pod-hours at zero SLO violations for the realised
// arrivals, by dynamic programming over the ready replicas of every second.
//
// The model it optimises over is a relaxation of the simulated cluster, so that its optimum can only be
// below what any policy pays: in second t at least need(t) = pods_needed(arrivals[t]) pods must be ready
// (capped at the maximum replicas; seconds needing more are counted as unmeetable); every pod costs a
// pod-second for each second it is ready, plus, when it is added at t, its start-up (billed from its
// creation, min(startup, t) seconds — the shortest delay the scenario's start-up model can draw, floored
// to whole seconds) and, when removed at t, its drain (min(drain, T − t) seconds). The run starts with
// the scenario's initial pods ready. Chaos, queues carried between seconds, metric lag and the replica
// ceiling on starting pods are all ignored, each of which could only raise the true cost.
//
// The DP's schedule is also run in the simulator as `oracle-schedule` (OracleScheduleAutoscaler): every
// second it asks for the most pods the schedule has ready over the next start-up delay (the longest of
// the next pods' real delays), so pods are created in time and kept until no longer scheduled. Its
// realised violations and cost show how far the bound is from what foresight can actually achieve here.
#pragma once

#include <span>
#include <vector>

#include "eval/autoscaler.hpp"
#include "eval/scenario.hpp"

namespace maestro::eval {

struct OracleProblem {
  std::vector<int> need;    // ready pods needed in each second
  int initial_ready = 0;    // ready at time 0
  int max_replicas = 0;     // need is capped here
  int startup_seconds = 0;  // billed before a pod added at t is ready
  int drain_seconds = 0;    // billed after a pod is removed
  // With a price: no floor `need`; instead a second with r ready pods also costs price × the requests its
  // r pods serve over the soft SLO, over[t × (max_replicas + 1) + r]. The DP then trades pod-seconds
  // against violations with foresight: a schedule on the foresight frontier, not a bound at zero.
  double violation_price = 0;  // pod-seconds per request over the SLO; 0: the floor
  std::vector<float> over;     // with a price: requests over the soft SLO, by second, then ready pods
  // Pod-seconds charged for each change of the ready pods, besides start-up and drain: a price on scaling
  // actions, for a schedule that flaps less (0 for the bound).
  double change_cost = 0;
};

struct OracleSolution {
  double pod_seconds = 0;      // the minimum
  std::vector<int> ready;      // an optimal schedule: ready pods in each second
  int unmeetable_seconds = 0;  // seconds whose need exceeds max_replicas
};

// Exact minimum of the relaxed cost above, O(seconds × max_replicas).
OracleSolution solve_oracle(const OracleProblem& problem);

// The cost of `ready` (ready pods per second) under the oracle's model — pod-seconds, plus the priced
// violations if the problem has a price: what solve_oracle minimises; for tests and for reading a schedule.
double oracle_schedule_cost(const OracleProblem& problem, std::span<const int> ready);

// The problem for a scenario's run over `arrivals`; with a violation price (pod-seconds per request over the
// soft SLO), its steady-state violations at every replica count (sim::steady_share_within_soft_slo).
OracleProblem oracle_problem(const Scenario& scenario, std::span<const double> arrivals,
                             double violation_price = 0, double change_cost = 0);

// The shortest start-up delay the model can draw (uniform: median × (1 − spread); log-normal: 0).
double shortest_startup_seconds(const sim::StartupModel& startup);

class OracleScheduleAutoscaler final : public Autoscaler {
 public:
  // `ready`: the DP's schedule (OracleSolution::ready) for the run's arrivals.
  explicit OracleScheduleAutoscaler(std::vector<int> ready) : ready_(std::move(ready)) {}
  int period_seconds() const override { return 1; }
  void reset(const sim::Cluster&) override {}
  int decide(const sim::Cluster& cluster, const core::Observation& observation) override;

 private:
  std::vector<int> ready_;
};

}  // namespace maestro::eval
