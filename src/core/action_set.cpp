#include "core/action_set.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/action.hpp"

namespace maestro::core {
namespace {

std::string change_name(const ReplicaChange& change) {
  const std::string sign = change.amount > 0 ? "+" : "";
  return change.kind == ReplicaChange::Kind::kPercent ? fmt::format("{}{:g}%", sign, change.amount)
                                                      : fmt::format("{}{:g}", sign, change.amount);
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

std::vector<std::string> action_set_names() {
  return {"original", "multi"};
}

Result<ActionSet> action_set_from_name(std::string_view name) {
  if (name == "original") return original_action_set();
  if (name == "multi") return multi_action_set();
  return fail("unknown action set '{}' (known: original, multi)", name);
}

int replicas_after(const ReplicaChange& change, int current) {
  double delta = change.amount;
  if (change.kind == ReplicaChange::Kind::kPercent && change.amount != 0) {
    const double share = std::ceil(std::abs(change.amount) / 100.0 * current - 1e-9);
    delta = std::copysign(std::max(1.0, share), change.amount);
  }
  return std::max(0, current + static_cast<int>(delta));
}

std::optional<int> replicas_after(const ActionSet& set, int code, int current) {
  if (code < 0 || code >= set.size()) return std::nullopt;
  return replicas_after(set.changes[static_cast<std::size_t>(code)], current);
}

std::string_view replica_change_kind_name(ReplicaChange::Kind kind) {
  return kind == ReplicaChange::Kind::kPercent ? "percent" : "pods";
}

std::optional<ReplicaChange::Kind> replica_change_kind_from_name(std::string_view name) {
  if (name == "pods") return ReplicaChange::Kind::kPods;
  if (name == "percent") return ReplicaChange::Kind::kPercent;
  return std::nullopt;
}

}  // namespace maestro::core
