// The controller's record of one managed target, shared by controller.cpp and controller_autoscalers.cpp.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "services/controller/controller.hpp"

namespace maestro::controller {

struct Controller::Target {
  std::string namespace_;
  std::string name;
  DeploymentSettings settings;  // guarded by the controller's mutex (discovery may update it)
  bool listed = false;          // in the configuration file (discovery never removes it)
  base::Clock::TimePoint next_due{};
  bool in_flight = false;
  bool held_by_fault = false;  // the last reconcile held because something failed
  ScalingHistory history;      // touched only by the worker reconciling the target
  // Set when a MaestroAutoscaler names the target (guarded by the controller's mutex).
  std::optional<Autoscaler> autoscaler;
  std::string other_autoscaler;  // who else scales it ("" nobody)
  // The scale of a target that is not a Deployment (null: the controller's ScaleClient); replaced, never
  // changed, under the controller's mutex.
  std::shared_ptr<ScaleClient> workload_scale;
  // Touched only by the worker reconciling the target (and by sync_autoscalers before its first reconcile).
  AutoscalerStatus status;
  std::string conflict_recorded;  // the other autoscaler last recorded in an Event
  // The (action, result) label pairs of its decision counters, so that its series can go with it; touched
  // only by the worker reconciling the target, read under the controller's mutex when none is.
  std::set<std::pair<std::string, std::string>> decision_series;
  bool forgotten = false;  // no longer managed: its series go once no reconcile of it runs (mutex)
};

}  // namespace maestro::controller
