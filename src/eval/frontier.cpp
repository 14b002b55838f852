#include "eval/frontier.hpp"

#include <algorithm>

namespace maestro::eval {

std::vector<FrontierPoint> pareto_frontier(const std::vector<FrontierPoint>& points) {
  std::vector<FrontierPoint> sorted = points;
  // By share, then pod-hours: a point is on the frontier iff it is cheaper than every point before it.
  std::stable_sort(sorted.begin(), sorted.end(), [](const FrontierPoint& a, const FrontierPoint& b) {
    return a.share_over_soft != b.share_over_soft ? a.share_over_soft < b.share_over_soft
                                                  : a.pod_hours < b.pod_hours;
  });
  std::vector<FrontierPoint> frontier;
  for (const auto& point : sorted)
    if (frontier.empty() || point.pod_hours < frontier.back().pod_hours) frontier.push_back(point);
  return frontier;
}

std::optional<double> frontier_pod_hours_at(const std::vector<FrontierPoint>& frontier, double share) {
  if (frontier.empty() || share < frontier.front().share_over_soft) return std::nullopt;
  for (std::size_t i = 0; i + 1 < frontier.size(); ++i) {
    const auto& a = frontier[i];
    const auto& b = frontier[i + 1];
    if (share <= b.share_over_soft) {
      const double along = (share - a.share_over_soft) / (b.share_over_soft - a.share_over_soft);
      return a.pod_hours + along * (b.pod_hours - a.pod_hours);
    }
  }
  return frontier.back().pod_hours;
}

std::vector<std::string> dominating_points(const std::vector<FrontierPoint>& points,
                                           const FrontierPoint& policy) {
  std::vector<std::string> names;
  for (const auto& point : points)
    if (point.share_over_soft <= policy.share_over_soft && point.pod_hours <= policy.pod_hours)
      names.push_back(point.name);
  return names;
}

namespace {

Headline headline_of(const PolicyResult& policy, const FrontierSummary& summary, double oracle) {
  Headline headline;
  headline.policy = policy.name;
  headline.role = policy.role;
  headline.share_over_soft = policy.share_over_soft.mean;
  headline.pod_hours = policy.pod_hours.mean;
  headline.frontier_pod_hours = frontier_pod_hours_at(summary.frontier, headline.share_over_soft);
  if (headline.frontier_pod_hours && *headline.frontier_pod_hours > 0)
    headline.saved_fraction = 1 - headline.pod_hours / *headline.frontier_pod_hours;
  headline.dominated_by =
      dominating_points(summary.baselines, {policy.name, headline.share_over_soft, headline.pod_hours});
  headline.oracle_ratio = oracle > 0 ? headline.pod_hours / oracle : 0;
  return headline;
}

}  // namespace

FrontierSummary summarise_frontier(const Evaluation& evaluation) {
  FrontierSummary summary;
  for (const auto& policy : evaluation.policies)
    if (policy.role == PolicyRole::kBaseline)
      summary.baselines.push_back({policy.name, policy.share_over_soft.mean, policy.pod_hours.mean});
  summary.frontier = pareto_frontier(summary.baselines);
  const double oracle = evaluation.oracle.summary.mean;
  for (const auto role : {PolicyRole::kEvaluated, PolicyRole::kOracleSchedule})
    for (const auto& policy : evaluation.policies)
      if (policy.role == role) summary.headlines.push_back(headline_of(policy, summary, oracle));
  return summary;
}

}  // namespace maestro::eval
