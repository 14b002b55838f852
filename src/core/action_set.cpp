#include "core/action_set.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/action.hpp"

namespace maestro::core {
namespace {

std::string change_name(const ReplicaChange& change) {
  const std::string sign = change.amount > 0 ? "+" : "";
  switch (change.kind) {
    case ReplicaChange::Kind::kPercent:
      return fmt::format("{}{:g}%", sign, change.amount);
    case ReplicaChange::Kind::kUtilisation:
      return fmt::format("target-{:g}%", change.amount);
    case ReplicaChange::Kind::kPods:
      break;
  }
  return fmt::format("{}{:g}", sign, change.amount);
}

// The HPA's tolerance: no change while usage ÷ target is within 10 % of 1 (hpa/hpa.hpp, --horizontal-pod-
// autoscaler-tolerance).
constexpr double kUtilisationTolerance = 0.1;

std::optional<int> replicas_for_utilisation(double target_percent, int current,
                                            const std::optional<CpuBasis>& cpu) {
  if (!cpu || !(cpu->request_cores > 0) || !(target_percent > 0)) return std::nullopt;
  const double pods_at_target = cpu->usage_percent / 100.0 / (cpu->request_cores * target_percent / 100.0);
  if (current > 0 && std::abs(pods_at_target / current - 1.0) <= kUtilisationTolerance) return current;
  return static_cast<int>(std::max(0.0, std::ceil(pods_at_target - 1e-9)));
}

}  // namespace

ActionSet original_action_set(int step) {
  ActionSet set{"original", {}, {}};
  for (const int code : {0, 1, 2}) {
    set.changes.push_back({ReplicaChange::Kind::kPods, static_cast<double>((code - 1) * step)});
    set.names.emplace_back(action_name(static_cast<Action>(code)));
  }
  return set;
}

ActionSet multi_action_set() {
  using Kind = ReplicaChange::Kind;
  ActionSet set{"multi",
                {{Kind::kPercent, -50},
                 {Kind::kPods, -2},
                 {Kind::kPods, -1},
                 {Kind::kPods, 0},
                 {Kind::kPods, 1},
                 {Kind::kPods, 2},
                 {Kind::kPercent, 50},
                 {Kind::kPercent, 100}},
                {}};
  for (const auto& change : set.changes) set.names.push_back(change_name(change));
  return set;
}

ActionSet targets_action_set() {
  using Kind = ReplicaChange::Kind;
  ActionSet set{"targets", {{Kind::kPods, 0}}, {"hold"}};
  for (int target = 30; target <= 90; target += 10) {
    set.changes.push_back({Kind::kUtilisation, static_cast<double>(target)});
    set.names.push_back(change_name(set.changes.back()));
  }
  return set;
}

bool ActionSet::needs_cpu() const {
  return std::ranges::any_of(
      changes, [](const ReplicaChange& c) { return c.kind == ReplicaChange::Kind::kUtilisation; });
}

std::vector<std::string> action_set_names() {
  return {"original", "multi", "targets"};
}

Result<ActionSet> action_set_from_name(std::string_view name) {
  if (name == "original") return original_action_set();
  if (name == "multi") return multi_action_set();
  if (name == "targets") return targets_action_set();
  return fail("unknown action set '{}' (known: original, multi, targets)", name);
}

std::optional<int> replicas_after(const ReplicaChange& change, int current,
                                  const std::optional<CpuBasis>& cpu) {
  if (change.kind == ReplicaChange::Kind::kUtilisation)
    return replicas_for_utilisation(change.amount, current, cpu);
  double delta = change.amount;
  if (change.kind == ReplicaChange::Kind::kPercent && change.amount != 0) {
    const double share = std::ceil(std::abs(change.amount) / 100.0 * current - 1e-9);
    delta = std::copysign(std::max(1.0, share), change.amount);
  }
  return std::max(0, current + static_cast<int>(delta));
}

std::optional<int> replicas_after(const ActionSet& set, int code, int current,
                                  const std::optional<CpuBasis>& cpu) {
  if (code < 0 || code >= set.size()) return std::nullopt;
  return replicas_after(set.changes[static_cast<std::size_t>(code)], current, cpu);
}

std::string_view replica_change_kind_name(ReplicaChange::Kind kind) {
  switch (kind) {
    case ReplicaChange::Kind::kPercent:
      return "percent";
    case ReplicaChange::Kind::kUtilisation:
      return "utilisation";
    case ReplicaChange::Kind::kPods:
      break;
  }
  return "pods";
}

std::optional<ReplicaChange::Kind> replica_change_kind_from_name(std::string_view name) {
  if (name == "pods") return ReplicaChange::Kind::kPods;
  if (name == "percent") return ReplicaChange::Kind::kPercent;
  if (name == "utilisation") return ReplicaChange::Kind::kUtilisation;
  return std::nullopt;
}

}  // namespace maestro::core
