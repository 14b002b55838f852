#include "services/controller/leader_election.hpp"

namespace maestro::controller {

Result<LeaderElectionConfig> validate(const LeaderElectionConfig& config) {
  if (config.identity.empty()) return fail("leader election: the identity must not be empty");
  if (config.retry_period <= std::chrono::seconds(0))
    return fail("leader election: the retry period must be positive");
  if (config.renew_deadline >= config.lease_duration)
    return fail("leader election: the renew deadline ({} s) must be shorter than the lease ({} s)",
                config.renew_deadline.count(), config.lease_duration.count());
  if (config.retry_period >= config.renew_deadline)
    return fail("leader election: the retry period ({} s) must be shorter than the renew deadline ({} s)",
                config.retry_period.count(), config.renew_deadline.count());
  return config;
}

LeaderElector::LeaderElector(LeaseLock& lock, const base::Clock& clock, LeaderElectionConfig config,
                             std::function<std::chrono::system_clock::time_point()> wall_clock)
    : lock_(lock), clock_(clock), config_(std::move(config)), wall_clock_(std::move(wall_clock)) {}

void LeaderElector::observe(const LeaseRecord& record) {
  observed_ = record;
  observed_at_ = clock_.now();
}

bool LeaderElector::try_acquire_or_renew() {
  const auto now = wall_clock_();
  LeaseRecord wanted{.holder_identity = config_.identity,
                     .lease_duration_seconds = static_cast<int>(config_.lease_duration.count()),
                     .acquire_time = now,
                     .renew_time = now,
                     .lease_transitions = 0};
  auto current = lock_.get();
  if (!current) {
    if (current.error().kind != kube::KubeErrorKind::kNotFound) {
      last_error_ = current.error().message;
      return false;
    }
    if (auto created = lock_.create(wanted); !created) {
      last_error_ = created.error().message;
      return false;
    }
    observe(wanted);
    renewed_at_ = clock_.now();
    return true;
  }
  // The lease's age counts from when this process last saw the record change.
  if (!observed_ || *observed_ != *current) observe(*current);
  const bool valid = clock_.now() < observed_at_ + std::chrono::seconds(observed_->lease_duration_seconds);
  if (!current->holder_identity.empty() && valid && !holds_observed()) {
    last_error_ = "the lease is held by " + current->holder_identity;
    return false;
  }
  if (holds_observed()) {
    wanted.acquire_time = current->acquire_time;
    wanted.lease_transitions = current->lease_transitions;
  } else {
    wanted.lease_transitions = current->lease_transitions + 1;
  }
  if (auto updated = lock_.update(wanted); !updated) {
    last_error_ = updated.error().message;
    return false;
  }
  observe(wanted);
  renewed_at_ = clock_.now();
  return true;
}

bool LeaderElector::leading() const {
  return holds_observed() && renewed_at_ && clock_.now() - *renewed_at_ < config_.renew_deadline;
}

bool LeaderElector::lost() const {
  return holds_observed() && renewed_at_ && clock_.now() - *renewed_at_ >= config_.renew_deadline;
}

kube::KubeResult<void> LeaderElector::release() {
  if (!holds_observed()) return {};
  // Read again, so that the update carries the current resourceVersion and gives up nothing not ours.
  auto current = lock_.get();
  if (!current) return std::unexpected(current.error());
  if (current->holder_identity != config_.identity) {
    observe(*current);
    return {};
  }
  const auto now = wall_clock_();
  const LeaseRecord released{.holder_identity = "",
                             .lease_duration_seconds = 1,
                             .acquire_time = now,
                             .renew_time = now,
                             .lease_transitions = current->lease_transitions};
  auto updated = lock_.update(released);
  if (updated) {
    observe(released);
    renewed_at_.reset();
  }
  return updated;
}

}  // namespace maestro::controller
