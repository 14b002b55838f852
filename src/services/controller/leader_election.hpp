// Leader election over a coordination.k8s.io/v1 Lease, as client-go's leaderelection package does it, so
// that of several controller replicas exactly one acts. Its defaults: a 15 s lease, a 10 s renew deadline,
// a 2 s retry period. A candidate takes the lease when it is free or when its holder has not renewed it for
// a whole lease duration — measured on this process's own clock, from when it last saw the record change,
// never from the timestamps in the record (the clocks of two nodes need not agree). The leader renews every
// retry period; one that cannot renew within the renew deadline stops acting. Because the renew deadline is
// shorter than the lease, the old leader has stopped before anyone else may take over.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "base/clock.hpp"
#include "base/error.hpp"
#include "kube/error.hpp"

namespace maestro::controller {

// A Lease's spec (coordination.k8s.io/v1), as the election reads and writes it.
struct LeaseRecord {
  std::string holder_identity;  // "" nobody
  int lease_duration_seconds = 0;
  std::chrono::system_clock::time_point acquire_time{};
  std::chrono::system_clock::time_point renew_time{};
  int lease_transitions = 0;

  friend bool operator==(const LeaseRecord&, const LeaseRecord&) = default;
};

// The lease in the API. get() remembers the object's resourceVersion, and update() sends it: an update based
// on a stale read fails with kConflict.
class LeaseLock {
 public:
  virtual ~LeaseLock() = default;
  virtual kube::KubeResult<LeaseRecord> get() = 0;  // kNotFound if there is no lease yet
  virtual kube::KubeResult<void> create(const LeaseRecord& record) = 0;
  virtual kube::KubeResult<void> update(const LeaseRecord& record) = 0;
};

struct LeaderElectionConfig {
  std::string identity;  // unique per candidate: the pod's name
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
};

// renew_deadline < lease_duration, retry_period < renew_deadline, a non-empty identity.
Result<LeaderElectionConfig> validate(const LeaderElectionConfig& config);

// One candidate. Not thread-safe: one thread calls it every retry period (with jitter).
class LeaderElector {
 public:
  // `lock` and `clock` must outlive the elector; `config` must have passed validate().
  LeaderElector(
      LeaseLock& lock, const base::Clock& clock, LeaderElectionConfig config,
      std::function<std::chrono::system_clock::time_point()> wall_clock = [] {
        return std::chrono::system_clock::now();
      });

  // client-go's tryAcquireOrRenew: creates the lease if there is none, takes it if it is free or expired,
  // renews it if held; true if this candidate holds it now.
  bool try_acquire_or_renew();

  // Holds the lease and renewed it (or acquired it) less than the renew deadline ago: may act now.
  bool leading() const;
  // Held the lease, but failed to renew it for the renew deadline: it must stop acting (and, as client-go's
  // users do, exit, to be restarted as a candidate).
  bool lost() const;

  // Gives the lease up if held (holder "", a 1 s lease), so another candidate need not wait it out.
  kube::KubeResult<void> release();

  const std::string& last_error() const { return last_error_; }

 private:
  bool holds_observed() const { return observed_ && observed_->holder_identity == config_.identity; }
  void observe(const LeaseRecord& record);

  LeaseLock& lock_;
  const base::Clock& clock_;
  LeaderElectionConfig config_;
  std::function<std::chrono::system_clock::time_point()> wall_clock_;
  std::optional<LeaseRecord> observed_;
  base::Clock::TimePoint observed_at_{};
  std::optional<base::Clock::TimePoint> renewed_at_;  // our last successful acquire or renew
  std::string last_error_;
};

}  // namespace maestro::controller
