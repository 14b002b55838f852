// The oracle: the DP's minimum equals brute force over every schedule on tiny problems, is never above any
// feasible schedule's cost, and in the simulator stays below what any run pays, its own schedule included.
#include "eval/oracle.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "eval/baselines.hpp"
#include "eval/runner.hpp"
#include "eval/test_scenarios.hpp"

namespace maestro::eval {
namespace {

// The cheapest schedule by trying every one: (max + 1)^seconds of them.
double brute_force_minimum(const OracleProblem& problem) {
  const std::size_t seconds = problem.need.size();
  std::vector<int> ready(seconds, 0);
  double best = std::numeric_limits<double>::infinity();
  while (true) {
    best = std::min(best, oracle_schedule_cost(problem, ready));
    std::size_t t = 0;
    while (t < seconds && ready[t] == problem.max_replicas) ready[t++] = 0;
    if (t == seconds) return best;
    ++ready[t];
  }
}

OracleProblem tiny_problem(std::vector<int> need, int initial, int max, int startup, int drain) {
  OracleProblem problem;
  problem.need = std::move(need);
  problem.initial_ready = initial;
  problem.max_replicas = max;
  problem.startup_seconds = startup;
  problem.drain_seconds = drain;
  return problem;
}

TEST(Oracle, AgreesWithBruteForceOnHandPickedCases) {
  // A spike of 3 for one second: keeping the pods costs less than starting them for 4 s each time.
  const auto spike = tiny_problem({1, 1, 1, 1, 1, 1, 3, 1, 1, 3, 1, 1}, 1, 3, 4, 1);
  const auto solved = solve_oracle(spike);
  EXPECT_DOUBLE_EQ(solved.pod_seconds, brute_force_minimum(spike));
  EXPECT_DOUBLE_EQ(oracle_schedule_cost(spike, solved.ready), solved.pod_seconds);
  EXPECT_EQ(solved.ready, (std::vector<int>{1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 1, 1}));
  EXPECT_DOUBLE_EQ(solved.pod_seconds,
                   12 + 2 * 4 + 2 * 4 + 2 * 1);  // 1 pod, 2 more ready 4 s, start-ups, drains
  // Nothing needed, nothing to start: the initial pods are removed at once (drain only).
  const auto idle = tiny_problem({0, 0, 0}, 2, 3, 5, 1);
  EXPECT_DOUBLE_EQ(solve_oracle(idle).pod_seconds, 2);
  // More than the maximum is unmeetable: the maximum is kept and the seconds counted.
  const auto over = tiny_problem({1, 5, 1}, 1, 2, 0, 0);
  EXPECT_EQ(solve_oracle(over).unmeetable_seconds, 1);
  EXPECT_DOUBLE_EQ(solve_oracle(over).pod_seconds, brute_force_minimum(over));
}

TEST(Oracle, WithAPriceTradesPodSecondsAgainstRequestsOverTheSlo) {
  // Second 3 needs 3 pods; with 2 ready, 10 requests are over the SLO there (40 with 1, 100 with none).
  auto problem = tiny_problem({2, 2, 2, 3, 2, 2}, 2, 3, 2, 1);
  problem.over.assign(6 * 4, 0.0f);
  for (std::size_t t = 0; t < 6; ++t) problem.over[t * 4] = 100, problem.over[t * 4 + 1] = 40;
  problem.over[3 * 4 + 2] = 10;
  // Cheap violations: the third pod (2 s start-up + 1 s ready + 1 s drain) is not worth 10 requests at 0.1.
  problem.violation_price = 0.1;
  const auto cheap = solve_oracle(problem);
  EXPECT_EQ(cheap.ready, (std::vector<int>{2, 2, 2, 2, 2, 2}));
  EXPECT_DOUBLE_EQ(cheap.pod_seconds, 12 + 0.1 * 10);
  // Dear ones: the pod is started for that second, as the floor would have it.
  problem.violation_price = 1;
  const auto dear = solve_oracle(problem);
  EXPECT_EQ(dear.ready, (std::vector<int>{2, 2, 2, 3, 2, 2}));
  EXPECT_DOUBLE_EQ(dear.pod_seconds, 13 + 2 + 1);
  // Unless each change costs 5 more: two changes (20 pod-seconds with them) are dearer than the 10 requests.
  problem.change_cost = 5;
  const auto steady = solve_oracle(problem);
  EXPECT_EQ(steady.ready, (std::vector<int>{2, 2, 2, 2, 2, 2}));
  EXPECT_DOUBLE_EQ(steady.pod_seconds, 12 + 10);
  problem.change_cost = 0;
  EXPECT_DOUBLE_EQ(oracle_schedule_cost(problem, dear.ready), dear.pod_seconds);
}

RC_GTEST_PROP(Oracle, WithAPriceEqualsBruteForceOnTinyProblems, ()) {
  const int max = *rc::gen::inRange(1, 4);
  const auto seconds = *rc::gen::inRange<std::size_t>(1, 6);
  auto problem = tiny_problem(std::vector<int>(seconds, 0), *rc::gen::inRange(0, max + 1), max,
                              *rc::gen::inRange(0, 6), *rc::gen::inRange(0, 4));
  problem.violation_price = *rc::gen::element(0.01, 0.1, 1.0, 10.0);
  problem.change_cost = *rc::gen::element(0.0, 0.5, 3.0);
  // Requests over the SLO fall as pods are added, as the queueing model's do.
  for (std::size_t t = 0; t < seconds; ++t) {
    float over = static_cast<float>(*rc::gen::inRange(0, 50));
    for (int r = 0; r <= max; ++r) {
      problem.over.push_back(over);
      over = std::floor(over * static_cast<float>(*rc::gen::inRange(0, 100)) / 100);
    }
  }
  const auto solved = solve_oracle(problem);
  RC_ASSERT(std::abs(solved.pod_seconds - brute_force_minimum(problem)) < 1e-6);
  RC_ASSERT(std::abs(oracle_schedule_cost(problem, solved.ready) - solved.pod_seconds) < 1e-6);
}

RC_GTEST_PROP(Oracle, EqualsBruteForceOnTinyProblems, ()) {
  const int max = *rc::gen::inRange(1, 4);
  const auto seconds = *rc::gen::inRange<std::size_t>(1, 7);
  const auto need = *rc::gen::container<std::vector<int>>(seconds, rc::gen::inRange(0, max + 2));
  const auto problem = tiny_problem(need, *rc::gen::inRange(0, max + 1), max, *rc::gen::inRange(0, 6),
                                    *rc::gen::inRange(0, 4));
  const auto solved = solve_oracle(problem);
  RC_ASSERT(std::abs(solved.pod_seconds - brute_force_minimum(problem)) < 1e-9);
  RC_ASSERT(std::abs(oracle_schedule_cost(problem, solved.ready) - solved.pod_seconds) < 1e-9);
}

RC_GTEST_PROP(Oracle, IsNeverAboveAFeasibleSchedule, ()) {
  const int max = *rc::gen::inRange(1, 21);
  const auto seconds = *rc::gen::inRange<std::size_t>(1, 400);
  const auto need = *rc::gen::container<std::vector<int>>(seconds, rc::gen::inRange(0, max + 1));
  const auto problem = tiny_problem(need, *rc::gen::inRange(0, max + 1), max, *rc::gen::inRange(0, 60),
                                    *rc::gen::inRange(0, 10));
  // A feasible schedule: the need plus random headroom, within the maximum.
  std::vector<int> ready(seconds);
  for (std::size_t t = 0; t < seconds; ++t) ready[t] = std::min(max, need[t] + *rc::gen::inRange(0, 3));
  RC_ASSERT(solve_oracle(problem).pod_seconds <= oracle_schedule_cost(problem, ready) + 1e-9);
}

TEST(Oracle, BoundIsBelowEverySimulatedRunAndItsScheduleKeepsTheSlo) {
  Scenario scenario = testing::flash_crowd(300);
  scenario.cluster.warmup.seconds = 0;  // the schedule plans for warm pods: warm-up would cost it violations
  const auto arrivals = scenario_arrivals(scenario, 1);
  const auto solved = solve_oracle(oracle_problem(scenario, arrivals));
  EXPECT_EQ(solved.unmeetable_seconds, 0);
  OracleScheduleAutoscaler schedule(solved.ready);
  const auto schedule_score = run_once(scenario, arrivals, 1, schedule, nullptr);
  StaticAutoscaler fixed(static_allocation_for(scenario.cluster, arrivals));
  const auto static_score = run_once(scenario, arrivals, 1, fixed, nullptr);
  auto hpa = make_hpa(scenario.cluster.bounds, 70);
  const auto hpa_score = run_once(scenario, arrivals, 1, *hpa, nullptr);
  const double bound = solved.pod_seconds / 3600;
  EXPECT_LE(bound, schedule_score.pod_hours);
  EXPECT_LE(bound, static_score.pod_hours);
  EXPECT_LE(bound, hpa_score.pod_hours);
  EXPECT_LT(schedule_score.pod_hours, 0.6 * static_score.pod_hours);
  EXPECT_EQ(schedule_score.slo_violation_seconds_soft, 0);
  EXPECT_EQ(schedule_score.dropped_requests, 0);
  // The start-up billed is the shortest the model draws: 30 s ± 25 % → 22 s.
  EXPECT_EQ(oracle_problem(scenario, arrivals).startup_seconds, 22);
}

// Run in the simulator, the priced schedules of a flash crowd trace the foresight frontier: a dearer
// violation buys fewer requests over the SLO with more pod-hours, and an almost free one leaves one pod.
TEST(Oracle, PricedSchedulesTradeViolationsForPodHoursInTheSimulator) {
  const Scenario scenario = testing::flash_crowd(300);
  const auto arrivals = scenario_arrivals(scenario, 1);
  std::vector<RunScore> scores;
  for (const double price : {1e-3, 0.03, 0.3, 10.0}) {
    OracleScheduleAutoscaler schedule(solve_oracle(oracle_problem(scenario, arrivals, price)).ready);
    scores.push_back(run_once(scenario, arrivals, 1, schedule, nullptr));
  }
  EXPECT_NEAR(scores.front().pod_hours, 0.5, 0.01);  // one pod for 1800 s
  for (std::size_t i = 1; i < scores.size(); ++i) {
    EXPECT_LT(scores[i].share_over_soft, scores[i - 1].share_over_soft) << i;
    EXPECT_GT(scores[i].pod_hours, scores[i - 1].pod_hours) << i;
  }
}

}  // namespace
}  // namespace maestro::eval
