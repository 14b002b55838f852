#include "services/suggestion_server/deployment_state.hpp"

#include <algorithm>

namespace maestro::suggestion_server {

namespace {

// A request this share of an interval after the last step or later is the next step (controller jitter).
constexpr double kStepShare = 0.9;

}  // namespace

DeploymentState::DeploymentState(const core::FeatureSpec& spec, bool keeps_history)
    : features_(spec), keeps_history_(keeps_history) {}

bool DeploymentState::serves(const core::FeatureSpec& spec, bool keeps_history) const {
  return features_.spec().set == spec.set &&
         features_.spec().memory_limit_bytes_per_pod == spec.memory_limit_bytes_per_pod &&
         keeps_history_ == keeps_history;
}

Result<DeploymentStep> DeploymentState::step(base::Clock::TimePoint now, prom::StateBuilder& builder,
                                             const prom::DeploymentRef& deployment, int ready_replicas,
                                             const HistoryOptions& options,
                                             const std::function<bool()>& abandoned) {
  const auto since = now - last_at_;
  const bool has_history = keeps_history_ && last_.index > 0;
  if (has_history &&
      since < std::chrono::duration_cast<base::Clock::Duration>(options.step_interval * kStepShare)) {
    DeploymentStep again = last_;
    again.reused = true;
    return again;
  }
  auto state = builder.build(deployment, abandoned);
  if (!state) return std::unexpected(state.error());
  if (has_history && since > options.forget_after) {
    features_.reset();
    last_.index = 0;
  }
  DeploymentStep next;
  next.observation = state->observation;
  next.starting_replicas = std::max(0, deployment.replicas - ready_replicas);
  features_.build(next.observation, core::DeploymentStatus{next.starting_replicas}, next.features);
  next.index = last_.index + 1;
  last_ = next;
  last_at_ = now;
  return next;
}

std::shared_ptr<DeploymentState> DeploymentStates::get(const std::string& key, const core::FeatureSpec& spec,
                                                       bool keeps_history, base::Clock::TimePoint now) {
  std::lock_guard lock(mutex_);
  std::erase_if(entries_, [&](const auto& entry) {
    return entry.first != key && now - entry.second.asked_at > options_.forget_after;
  });
  Entry& entry = entries_[key];
  if (entry.state == nullptr || !entry.state->serves(spec, keeps_history))
    entry.state = std::make_shared<DeploymentState>(spec, keeps_history);
  entry.asked_at = now;
  return entry.state;
}

std::size_t DeploymentStates::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace maestro::suggestion_server
