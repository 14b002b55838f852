// Leader election as client-go does it, against an in-memory Lease with the API's resourceVersion rules:
// one leader at a time, a takeover only after a whole lease without renewal, the old leader stopping before,
// a lost race on a conflict, and a release that frees the lease at once.
#include "services/controller/leader_election.hpp"

#include <functional>
#include <utility>

#include <gtest/gtest.h>

namespace maestro::controller {
namespace {

using namespace std::chrono_literals;

// The Lease object in the API: a record and its resourceVersion.
struct LeaseObject {
  std::optional<LeaseRecord> record;
  int resource_version = 0;
  bool failing = false;  // every request answers 500
};

kube::KubeError api_error(kube::KubeErrorKind kind, int status, std::string message) {
  return kube::KubeError{{std::move(message)}, kind, status, ""};
}

// One candidate's view of the Lease: it sends the resourceVersion it last read, as client-go's LeaseLock
// does.
class FakeLeaseLock final : public LeaseLock {
 public:
  explicit FakeLeaseLock(LeaseObject& lease) : lease_(lease) {}
  kube::KubeResult<LeaseRecord> get() override {
    if (lease_.failing) return std::unexpected(api_error(kube::KubeErrorKind::kServerError, 500, "500"));
    if (!lease_.record) return std::unexpected(api_error(kube::KubeErrorKind::kNotFound, 404, "not found"));
    read_version_ = lease_.resource_version;
    return *lease_.record;
  }
  kube::KubeResult<void> create(const LeaseRecord& record) override {
    if (lease_.failing) return std::unexpected(api_error(kube::KubeErrorKind::kServerError, 500, "500"));
    if (lease_.record) return std::unexpected(api_error(kube::KubeErrorKind::kConflict, 409, "exists"));
    lease_.record = record;
    read_version_ = ++lease_.resource_version;
    return {};
  }
  kube::KubeResult<void> update(const LeaseRecord& record) override {
    if (lease_.failing) return std::unexpected(api_error(kube::KubeErrorKind::kServerError, 500, "500"));
    if (before_update) std::exchange(before_update, nullptr)();
    if (read_version_ != lease_.resource_version)
      return std::unexpected(api_error(kube::KubeErrorKind::kConflict, 409, "stale resourceVersion"));
    lease_.record = record;
    read_version_ = ++lease_.resource_version;
    return {};
  }
  std::function<void()> before_update;  // runs once, inside the next update(): another candidate's turn

 private:
  LeaseObject& lease_;
  int read_version_ = -1;
};

struct Candidate {
  Candidate(LeaseObject& lease, const base::Clock& clock, std::string identity)
      : lock(lease), elector(lock, clock, {.identity = std::move(identity)}) {}
  FakeLeaseLock lock;
  LeaderElector elector;
};

TEST(LeaderElection, TheFirstCandidateCreatesTheLeaseAndTheOtherWaitsWhileItRenews) {
  base::ManualClock clock;
  LeaseObject lease;
  Candidate a(lease, clock, "controller-a");
  Candidate b(lease, clock, "controller-b");
  EXPECT_TRUE(a.elector.try_acquire_or_renew());
  EXPECT_TRUE(a.elector.leading());
  for (int tick = 0; tick < 60; ++tick) {
    clock.advance(2s);
    EXPECT_TRUE(a.elector.try_acquire_or_renew());
    EXPECT_FALSE(b.elector.try_acquire_or_renew());
    EXPECT_FALSE(b.elector.leading());
  }
  EXPECT_EQ(lease.record->holder_identity, "controller-a");
  EXPECT_EQ(lease.record->lease_duration_seconds, 15);
  EXPECT_EQ(lease.record->lease_transitions, 0);
  EXPECT_NE(b.elector.last_error().find("held by controller-a"), std::string::npos);
}

TEST(LeaderElection, AnotherTakesOverOnlyAWholeLeaseAfterTheLastRenewalAndNeverWhileTheOldLeaderActs) {
  base::ManualClock clock;
  LeaseObject lease;
  Candidate a(lease, clock, "controller-a");
  Candidate b(lease, clock, "controller-b");
  ASSERT_TRUE(a.elector.try_acquire_or_renew());
  ASSERT_FALSE(b.elector.try_acquire_or_renew());  // b sees the record now
  const auto last_renewal = clock.now();
  // a stops renewing (its process hangs); b keeps trying every retry period.
  bool taken = false;
  while (!taken) {
    clock.advance(1s);
    EXPECT_FALSE(a.elector.leading() && b.elector.leading()) << "two leaders at once";
    taken = b.elector.try_acquire_or_renew();
    EXPECT_FALSE(a.elector.leading() && b.elector.leading()) << "two leaders at once";
  }
  EXPECT_EQ(clock.now() - last_renewal, 15s);
  EXPECT_TRUE(a.elector.lost()) << "the old leader must know it may no longer act";
  EXPECT_FALSE(a.elector.leading());
  EXPECT_EQ(lease.record->holder_identity, "controller-b");
  EXPECT_EQ(lease.record->lease_transitions, 1);
  // The old leader, back, finds the lease held and does not take it back.
  EXPECT_FALSE(a.elector.try_acquire_or_renew());
  EXPECT_FALSE(a.elector.lost()) << "it no longer believes it holds the lease";
}

TEST(LeaderElection, OfTwoCandidatesRacingForAnExpiredLeaseTheSecondWriterLosesOnTheConflict) {
  base::ManualClock clock;
  LeaseObject lease;
  Candidate old(lease, clock, "controller-old");
  Candidate a(lease, clock, "controller-a");
  Candidate b(lease, clock, "controller-b");
  ASSERT_TRUE(old.elector.try_acquire_or_renew());
  ASSERT_FALSE(a.elector.try_acquire_or_renew());
  ASSERT_FALSE(b.elector.try_acquire_or_renew());
  clock.advance(16s);  // the old leader is gone: the lease has expired for both
  // a's whole attempt lands between b's read and b's write.
  b.lock.before_update = [&] { EXPECT_TRUE(a.elector.try_acquire_or_renew()); };
  EXPECT_FALSE(b.elector.try_acquire_or_renew());
  EXPECT_NE(b.elector.last_error().find("stale"), std::string::npos) << b.elector.last_error();
  EXPECT_EQ(lease.record->holder_identity, "controller-a");
  EXPECT_EQ(lease.record->lease_transitions, 1);
  EXPECT_TRUE(a.elector.leading());
  EXPECT_FALSE(b.elector.leading());
  EXPECT_FALSE(b.elector.try_acquire_or_renew()) << "b now sees a fresh lease held by a";
}

TEST(LeaderElection, ALeaderThatCannotRenewForTheRenewDeadlineHasLostAndAReleaseFreesTheLeaseAtOnce) {
  base::ManualClock clock;
  LeaseObject lease;
  Candidate a(lease, clock, "controller-a");
  Candidate b(lease, clock, "controller-b");
  ASSERT_TRUE(a.elector.try_acquire_or_renew());
  lease.failing = true;  // the API server answers 500
  for (int tick = 0; tick < 4; ++tick) {
    clock.advance(2s);
    EXPECT_FALSE(a.elector.try_acquire_or_renew());
    EXPECT_TRUE(a.elector.leading()) << "within the renew deadline it still acts";
  }
  clock.advance(2s);
  EXPECT_FALSE(a.elector.try_acquire_or_renew());
  EXPECT_FALSE(a.elector.leading());
  EXPECT_TRUE(a.elector.lost());
  EXPECT_EQ(a.elector.last_error(), "500");

  lease.failing = false;
  ASSERT_TRUE(a.elector.try_acquire_or_renew());
  ASSERT_FALSE(b.elector.try_acquire_or_renew());
  ASSERT_TRUE(a.elector.release().has_value());
  EXPECT_FALSE(a.elector.leading());
  EXPECT_EQ(lease.record->holder_identity, "");
  clock.advance(1s);  // the released lease lasts a second
  EXPECT_TRUE(b.elector.try_acquire_or_renew());
  EXPECT_EQ(lease.record->lease_transitions, 1);
}

TEST(LeaderElection, RefusesTimingsThatWouldLetTwoLeadersAct) {
  EXPECT_TRUE(validate({.identity = "a"}).has_value());
  EXPECT_FALSE(validate({.identity = ""}).has_value());
  EXPECT_FALSE(validate({.identity = "a", .lease_duration = 10s, .renew_deadline = 10s}).has_value());
  EXPECT_FALSE(validate({.identity = "a", .renew_deadline = 2s, .retry_period = 2s}).has_value());
  EXPECT_FALSE(validate({.identity = "a", .retry_period = 0s}).has_value());
}

}  // namespace
}  // namespace maestro::controller
