// What the suggestion server remembers of each deployment between requests: the history the policy's feature
// set needs (DESIGN §2 "Features"). One DeploymentState per deployment owns the use of the StateBuilder (the
// observation from Prometheus), the pods still starting (spec.replicas − status.readyReplicas) and the
// core::FeatureBuilder that turns them into the feature vector step after step, as training and evaluation
// build it.
//
// History is per step, and a step is one control interval. A request at least 90% of `step_interval` after
// the last step (the controller's jitter is tolerated) makes a new step: the four queries, then the features,
// advancing the history once. A request sooner than that is served from the last step again — its
// observation, pods starting and features — so that a retry or a second caller never advances history twice.
// A feature set without history (`original`) has nothing to protect: every request is a new step, read
// afresh, as the seed did. A deployment silent for longer than `forget_after`, or whose policy now needs
// another feature set, starts again from an empty history (the first observation fills it, as at an episode's
// start).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "core/features.hpp"
#include "prom/state_builder.hpp"

namespace maestro::suggestion_server {

struct HistoryOptions {
  std::chrono::milliseconds step_interval{15'000};  // the control interval the policy was trained at
  std::chrono::milliseconds forget_after{120'000};  // longer silent than this: history starts again
};

// One step of a deployment: what the policy is asked about.
struct DeploymentStep {
  core::Observation observation;
  double starting_replicas = 0;
  std::vector<double> features;  // core::FeatureBuilder's, for the step's observation and history
  long index = 0;                // steps in the history so far, this one included (1 = the first)
  bool reused = false;           // served again from the last step (a request sooner than one interval)
};

class DeploymentState {
 public:
  DeploymentState(const core::FeatureSpec& spec, bool keeps_history);

  // Whether this state serves a policy with `spec` (and the same need for history).
  bool serves(const core::FeatureSpec& spec, bool keeps_history) const;

  // The step to decide on at `now` (see the file comment). A new step queries `deployment` through `builder`
  // (which stops once `abandoned` says so); if that fails nothing changes and the error is returned.
  Result<DeploymentStep> step(base::Clock::TimePoint now, prom::StateBuilder& builder,
                              const prom::DeploymentRef& deployment, int ready_replicas,
                              const HistoryOptions& options, const std::function<bool()>& abandoned = {});

 private:
  core::FeatureBuilder features_;
  bool keeps_history_;
  DeploymentStep last_;
  base::Clock::TimePoint last_at_{};
};

// The states of every deployment, by "namespace/name". Callers serialise requests per deployment; this only
// hands out and forgets states.
class DeploymentStates {
 public:
  explicit DeploymentStates(HistoryOptions options) : options_(options) {}

  const HistoryOptions& options() const { return options_; }

  // The state of `key` for a policy with `spec`: a new one if there was none or it served another feature
  // set. Forgets the states of deployments not asked about for longer than forget_after.
  std::shared_ptr<DeploymentState> get(const std::string& key, const core::FeatureSpec& spec,
                                       bool keeps_history, base::Clock::TimePoint now);
  std::size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<DeploymentState> state;
    base::Clock::TimePoint asked_at;
  };
  HistoryOptions options_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace maestro::suggestion_server
