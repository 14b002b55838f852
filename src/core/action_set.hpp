// Action sets (DESIGN §2): what each index a policy answers means as a change of replicas. The policy
// file records its set by name; training, evaluation, the model server and the controller all turn an
// index into replicas through this one table. `original` is the seed's encoding (0 down one step, 1 hold,
// 2 up one step) and never changes; `multi` moves several pods or a share of them at once; `targets` holds or
// picks the CPU utilisation the HPA's rule then sizes the deployment for, so that a policy can reproduce any
// tuned HPA and change its target with the traffic.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace maestro::core {

// One action: add (or remove, if negative) `amount` pods, or `amount` percent of the current replicas, or
// size the deployment for a CPU utilisation of `amount` percent of its pods' request.
struct ReplicaChange {
  enum class Kind { kPods, kPercent, kUtilisation };
  Kind kind = Kind::kPods;
  double amount = 0;

  friend bool operator==(const ReplicaChange&, const ReplicaChange&) = default;
};

struct ActionSet {
  std::string name;                    // "original", "multi", "targets"
  std::vector<ReplicaChange> changes;  // index = action code
  std::vector<std::string> names;      // index = action code: "scale_down", "-2", "+50%", "target-60%", …

  int size() const { return static_cast<int>(changes.size()); }
  // Whether some action is a utilisation target, whose replicas depend on the deployment's CPU (CpuBasis).
  bool needs_cpu() const;
  friend bool operator==(const ActionSet&, const ActionSet&) = default;
};

// 0: `step` pods down, 1: hold, 2: `step` pods up; names scale_down, hold, scale_up.
ActionSet original_action_set(int step = 1);
// −50%, −2, −1, 0, +1, +2, +50%, +100% of the replicas: the default for new policies.
ActionSet multi_action_set();
// Hold, or a CPU utilisation target of 30, 40, …, 90 % of request.
ActionSet targets_action_set();
std::vector<std::string> action_set_names();
// The set of that name (original with a step of one pod), or an error naming the known sets.
Result<ActionSet> action_set_from_name(std::string_view name);

// What a utilisation target is a share of: the deployment's CPU now and what one pod requests.
struct CpuBasis {
  double usage_percent = 0;  // CPU of all pods summed, percent of one core (Observation::cpu_usage)
  double request_cores = 0;  // CPU request of one pod (all its containers), cores
};

// The replicas `change` asks for from `current`, before any bounds. A percentage moves at least one pod
// (a share of a small deployment would otherwise round to nothing) and rounds away from zero, so −50% of
// 5 is 2 and +50% of 3 is 5. A utilisation target follows the HPA's rule: hold while the utilisation is
// within 10 % of the target, else ceil(usage ÷ (request × target)). Never below 0; nothing for a
// utilisation target without a basis with a positive request.
std::optional<int> replicas_after(const ReplicaChange& change, int current,
                                  const std::optional<CpuBasis>& cpu = {});
// The replicas action `code` of `set` asks for from `current`, before bounds; nothing if the code is not
// in the set (or it needs a basis that is missing).
std::optional<int> replicas_after(const ActionSet& set, int code, int current,
                                  const std::optional<CpuBasis>& cpu = {});

// "pods", "percent" or "utilisation": how the HTTP APIs spell a change's kind (DESIGN §2 "HTTP APIs").
std::string_view replica_change_kind_name(ReplicaChange::Kind kind);
std::optional<ReplicaChange::Kind> replica_change_kind_from_name(std::string_view name);

}  // namespace maestro::core
