// The controller's decision, as a pure function of what it read: the current replicas, the replicas the
// policy's action asks for, the deployment's settings and its recent scaling history. No I/O here, so every
// rule is unit-tested: the result never leaves [min, max], a hold never moves (unless the deployment is
// outside its bounds, when it is brought back in), and no change happens within the cooldown after the last
// one.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "core/action_set.hpp"
#include "core/scaling.hpp"

namespace maestro::controller {

// Who decides a deployment's replicas: the learned policy (the suggestion server) or the Kubernetes HPA's
// algorithm run in the controller (hpa_source.hpp).
enum class DecisionSource { kLearned, kHpa };

struct HpaSettings {
  int target_utilization_percent = 80;                // CPU, percent of request
  std::chrono::seconds downscale_stabilization{300};  // the API's default behavior
};

struct DeploymentSettings {
  core::ReplicaBounds bounds;
  int step = 1;                       // pods per step of the `original` action set (other sets say their own)
  std::chrono::seconds interval{15};  // how often to decide
  std::chrono::seconds cooldown{0};   // no change within this long after the last change
  bool dry_run = false;               // decide, log and export, but never write
  DecisionSource source = DecisionSource::kLearned;
  HpaSettings hpa{};  // when the HPA decides
  // The HPA's behavior rate limits (a MaestroAutoscaler's spec.behavior), per direction; none: no limit.
  std::optional<core::ScalingRules> scale_up{};
  std::optional<core::ScalingRules> scale_down{};
};

// How long the scaling history must be kept for `settings`: the cooldown, or the longest behavior period.
std::chrono::seconds history_window(const DeploymentSettings& settings);

// The changes made recently, kept for the cooldown (core::ScaleEvent, as the HPA keeps them).
struct ScalingHistory {
  std::vector<core::ScaleEvent> up;
  std::vector<core::ScaleEvent> down;
  std::string uid;  // the deployment they were made to: a deployment recreated under its name starts afresh

  // Forgets the changes if they were made to another deployment than the one of `deployment_uid`.
  void belong_to(const std::string& deployment_uid);
  void record(int from, int to, base::Clock::TimePoint at);
  // Drops events older than `keep` before `now`. Events after `now` (the clock went back) count as made
  // `now`, so that a cooldown lasts at most its length after the jump, not until the clock catches up.
  void prune(base::Clock::TimePoint now, std::chrono::seconds keep);
};

enum class DecisionReason {
  kPolicy,          // the action, applied
  kHold,            // the action asked for the current replicas
  kAtBound,         // the action would leave [min, max]
  kCooldown,        // changed too recently
  kIntoBounds,      // replicas were outside [min, max] (changed by someone else, or new bounds): brought back
  kScaleUpLimit,    // held (or moved less) by the behavior's scale-up rate limit
  kScaleDownLimit,  // held (or moved less) by the behavior's scale-down rate limit
};

std::string_view decision_reason_name(DecisionReason reason);

struct Decision {
  int current = 0;
  int desired = 0;
  DecisionReason reason = DecisionReason::kHold;

  bool changes() const { return desired != current; }
};

// The replicas an action of `action_set` that means `change` asks for from `current`, before bounds: the
// `original` set's ±1 counts steps of `step` pods (the seed's "one step"); any other change is
// core::replicas_after's.
int wanted_replicas(std::string_view action_set, const core::ReplicaChange& change, int current, int step);

// `wanted`: the replicas the action asks for (wanted_replicas), before bounds.
Decision decide(int current, int wanted, const DeploymentSettings& settings, const ScalingHistory& history,
                base::Clock::TimePoint now);

}  // namespace maestro::controller
