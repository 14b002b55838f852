// The controller's decision, as a pure function of what it read: the current replicas, the policy's action,
// the deployment's settings and its recent scaling history. No I/O here, so every rule is unit-tested:
// the result never leaves [min, max], a hold never moves (unless the deployment is outside its bounds,
// when it is brought back in), and no change happens within the cooldown after the last one.
#pragma once

#include <chrono>
#include <string_view>
#include <vector>

#include "core/action.hpp"
#include "core/clock.hpp"
#include "core/scaling.hpp"

namespace maestro::controller {

struct DeploymentSettings {
  core::ReplicaBounds bounds;
  int step = 1;                       // replicas added or removed per scaling action
  std::chrono::seconds interval{15};  // how often to decide
  std::chrono::seconds cooldown{0};   // no change within this long after the last change
  bool dry_run = false;               // decide, log and export, but never write
};

// The changes made recently, kept for the cooldown (core::ScaleEvent, as the HPA keeps them).
struct ScalingHistory {
  std::vector<core::ScaleEvent> up;
  std::vector<core::ScaleEvent> down;

  void record(int from, int to, core::Clock::TimePoint at);
  // Drops events older than `keep` before `now`.
  void prune(core::Clock::TimePoint now, std::chrono::seconds keep);
};

enum class DecisionReason {
  kPolicy,      // the action, applied
  kHold,        // the action was hold
  kAtBound,     // the action would leave [min, max]
  kCooldown,    // changed too recently
  kIntoBounds,  // replicas were outside [min, max] (changed by someone else, or new bounds): brought back
};

std::string_view decision_reason_name(DecisionReason reason);

struct Decision {
  int current = 0;
  int desired = 0;
  DecisionReason reason = DecisionReason::kHold;

  bool changes() const { return desired != current; }
};

Decision decide(int current, core::Action action, const DeploymentSettings& settings,
                const ScalingHistory& history, core::Clock::TimePoint now);

}  // namespace maestro::controller
