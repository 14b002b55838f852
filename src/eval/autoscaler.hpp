// The one interface every policy is evaluated through — the trained PPO policy and every baseline. The
// evaluation loop gives each the same simulated cluster second by second; every period_seconds() it asks
// for the replicas it wants and sets them. What a policy looks at is up to it: the five metrics (as
// Prometheus reports them), the pods as the metrics API shows them (the HPA), per-second request counts
// (Knative's KPA), or the future itself (the oracle).
#pragma once

#include <memory>
#include <string>

#include "core/action.hpp"
#include "core/observation.hpp"
#include "sim/cluster.hpp"

namespace maestro::eval {

class Autoscaler {
 public:
  virtual ~Autoscaler() = default;

  // How often decide() is called, in seconds.
  virtual int period_seconds() const { return 15; }
  // A new run on `cluster` (already reset, at time 0).
  virtual void reset(const sim::Cluster& cluster) = 0;
  // After every simulated second.
  virtual void observe_second(const sim::Cluster& /*cluster*/) {}
  // The replicas wanted now; `observation` is the latest of the 15-second metrics.
  virtual int decide(const sim::Cluster& cluster, const core::Observation& observation) = 0;
};

}  // namespace maestro::eval
