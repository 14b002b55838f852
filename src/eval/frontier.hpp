// The headline of an evaluation (DESIGN §5): how a learned policy compares with the best the baselines can
// do. The baseline frontier is the lower-left Pareto frontier of every HPA, static and KPA point in
// (share of requests over the soft SLO, pod-hours), each point a policy's means over seeds. A policy is
// judged at its own share: the frontier's pod-hours there (piecewise-linear between frontier points, flat
// beyond the one with the largest share; below the smallest share the frontier does not reach that SLO and
// no number is made up), the share of them it saves, whether some baseline point is at least as good on
// both axes, and its pod-hours over the oracle's lower bound. The oracle's schedules (with foresight) are
// judged the same way: how much a policy that knew the future could save at each SLO level.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "eval/runner.hpp"

namespace maestro::eval {

struct FrontierPoint {
  std::string name;
  double share_over_soft = 0;
  double pod_hours = 0;
};

// The points no other point beats on both axes (≤ on both and < on one), by share ascending (and so by
// pod-hours descending); of equal points, the first.
std::vector<FrontierPoint> pareto_frontier(const std::vector<FrontierPoint>& points);

// The frontier's pod-hours at `share`; nullopt below its smallest share (or with no frontier).
std::optional<double> frontier_pod_hours_at(const std::vector<FrontierPoint>& frontier, double share);

// The points at least as good as `policy` on both axes.
std::vector<std::string> dominating_points(const std::vector<FrontierPoint>& points,
                                           const FrontierPoint& policy);

struct Headline {
  std::string policy;
  PolicyRole role = PolicyRole::kEvaluated;  // or kOracleSchedule: what foresight does at that SLO
  double share_over_soft = 0;
  double pod_hours = 0;
  std::optional<double> frontier_pod_hours;  // nullopt: the frontier does not reach this SLO
  std::optional<double> saved_fraction;      // 1 − pod_hours / frontier_pod_hours
  std::vector<std::string> dominated_by;     // baseline points at least as good on both axes
  double oracle_ratio = 0;                   // pod_hours / the oracle's lower bound (0 if the bound is 0)
};

struct FrontierSummary {
  std::vector<FrontierPoint> baselines;  // every baseline point
  std::vector<FrontierPoint> frontier;
  std::vector<Headline> headlines;  // one per evaluated (learned) policy, then per oracle schedule
};

FrontierSummary summarise_frontier(const Evaluation& evaluation);

}  // namespace maestro::eval
