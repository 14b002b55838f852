// Faults through one reconcile, with in-memory fakes of the Kubernetes API and the suggestion server (no
// HTTP): for each — the suggestion server unreachable, timing out, answering 503 (Prometheus down, slow, NaN,
// stale, partial: the suggestion server says so with 503), garbage or an invalid action; Kubernetes 403, 500,
// hanging (timeout), a 409 storm, someone else scaling meanwhile, the deployment deleted or created again —
// the reconcile holds (writes nothing), says why (a cause), and the next reconcile after the fault clears
// acts again. A property drives random actions and faults: replicas never leave [min, max] and a fault never
// changes them.
#include "services/controller/reconcile.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <deque>
#include <map>

namespace maestro::controller {
namespace {

using namespace std::chrono_literals;

kube::KubeError kube_error(kube::KubeErrorKind kind, std::string message = "injected") {
  kube::KubeError error;
  error.message = std::move(message);
  error.kind = kind;
  return error;
}

// One deployment "shop/web" in memory; faults are queued per operation and used up one call each.
class FakeScale final : public ScaleClient {
 public:
  int replicas = 3;
  int version = 1;
  std::string uid = "uid-1";
  int patches = 0;
  int events = 0;
  std::deque<kube::KubeErrorKind> get_faults, patch_faults, event_faults;
  std::function<void()> before_patch;  // runs inside patch_scale (someone else scaling meanwhile)

  kube::KubeResult<kube::Scale> get_scale(const std::string&, const std::string&) override {
    if (auto fault = next(get_faults)) return std::unexpected(kube_error(*fault));
    return current();
  }
  kube::KubeResult<kube::Scale> patch_scale(const std::string&, const std::string&, int desired,
                                            const std::string& resource_version) override {
    if (before_patch) before_patch();
    if (auto fault = next(patch_faults)) return std::unexpected(kube_error(*fault));
    if (resource_version != std::to_string(version))
      return std::unexpected(kube_error(kube::KubeErrorKind::kConflict, "stale resourceVersion"));
    ++patches;
    replicas = desired;
    ++version;
    return current();
  }
  kube::KubeResult<void> create_event(const kube::DeploymentEvent&) override {
    if (auto fault = next(event_faults)) return std::unexpected(kube_error(*fault));
    ++events;
    return {};
  }
  kube::KubeResult<std::vector<kube::Deployment>> list_deployments_annotated(const std::string&,
                                                                             const std::string&,
                                                                             const std::string&) override {
    return std::vector<kube::Deployment>{};
  }

 private:
  static std::optional<kube::KubeErrorKind> next(std::deque<kube::KubeErrorKind>& faults) {
    if (faults.empty()) return std::nullopt;
    const auto fault = faults.front();
    faults.pop_front();
    return fault;
  }
  kube::Scale current() const {
    kube::Scale scale;
    scale.name = "web";
    scale.namespace_ = "shop";
    scale.uid = uid;
    scale.resource_version = std::to_string(version);
    scale.replicas = replicas;
    return scale;
  }
};

// Answers an `original` action decided for the fake's replicas, or the fault set.
class FakeSuggestions final : public SuggestionSource {
 public:
  explicit FakeSuggestions(const FakeScale& kube) : kube_(kube) {}
  int action = 2;                    // 0 down, 1 hold, 2 up
  std::optional<std::string> fault;  // a SuggestionError cause
  std::optional<int> decided_for;    // replicas the suggestion was decided for (default: the fake's)

  std::expected<Suggestion, SuggestionError> ask(const std::string&, const std::string&) override {
    if (fault) return std::unexpected(SuggestionError{{"injected: " + *fault}, *fault});
    return Suggestion{.action = action,
                      .action_name = action == 2   ? "scale_up"
                                     : action == 0 ? "scale_down"
                                                   : "hold",
                      .action_set = "original",
                      .replica_change = {core::ReplicaChange::Kind::kPods, static_cast<double>(action - 1)},
                      .replicas = decided_for.value_or(kube_.replicas)};
  }

 private:
  const FakeScale& kube_;
};

struct Harness {
  FakeScale kube;
  FakeSuggestions suggestions{kube};
  ScalingHistory history;
  ReconcileRequest request{.namespace_ = "shop",
                           .name = "web",
                           .settings = {.bounds = {2, 6}, .step = 1, .interval = 15s, .cooldown = 0s},
                           .now = base::Clock::TimePoint{} + 1h,
                           .conflict_retries = 3};

  ReconcileOutcome reconcile() {
    request.now += request.settings.interval;
    return reconcile_deployment(request, history, kube, suggestions);
  }
};

TEST(Reconcile, ScalesByTheSuggestionAndRecordsAnEvent) {
  Harness h;
  const auto outcome = h.reconcile();
  EXPECT_FALSE(outcome.held_by_fault());
  EXPECT_EQ(outcome.result, "scaled");
  EXPECT_EQ(outcome.action, "scale_up");
  EXPECT_EQ(h.kube.replicas, 4);
  EXPECT_EQ(h.kube.events, 1);
}

// Every failure of the suggestion server — whatever it stands for upstream — holds with its cause.
TEST(Reconcile, HoldsOnEverySuggestionFaultAndActsAgainOnceItClears) {
  for (const char* cause : {"suggestion_unreachable", "suggestion_timeout", "suggestion_unavailable",
                            "suggestion_status", "suggestion_malformed", "suggestion_invalid_action"}) {
    Harness h;
    h.suggestions.action = 0;  // a scale-down must never come from a fault
    h.suggestions.fault = cause;
    for (int interval = 0; interval < 3; ++interval) {
      const auto outcome = h.reconcile();
      EXPECT_TRUE(outcome.held_by_fault()) << cause;
      EXPECT_EQ(outcome.fault_cause, cause);
      EXPECT_NE(outcome.fault_message.find("injected"), std::string::npos);
      EXPECT_FALSE(outcome.decision.has_value());
    }
    EXPECT_EQ(h.kube.patches, 0) << cause;
    EXPECT_EQ(h.kube.replicas, 3) << cause;
    h.suggestions.fault.reset();  // cleared: the very next interval acts
    EXPECT_EQ(h.reconcile().result, "scaled") << cause;
    EXPECT_EQ(h.kube.replicas, 2) << cause;
  }
}

TEST(Reconcile, HoldsOnEveryKubernetesFaultAndActsAgainOnceItClears) {
  using Kind = kube::KubeErrorKind;
  for (const auto kind : {Kind::kForbidden, Kind::kServerError, Kind::kTimeout, Kind::kUnreachable,
                          Kind::kUnauthorized, Kind::kNotFound, Kind::kBadResponse}) {
    const std::string cause = fmt::format("kube_{}", kube::kube_error_kind_name(kind));
    {  // reading the scale fails
      Harness h;
      h.kube.get_faults = {kind, kind};
      EXPECT_EQ(h.reconcile().fault_cause, cause);
      EXPECT_EQ(h.reconcile().fault_cause, cause);
      EXPECT_EQ(h.kube.replicas, 3);
      EXPECT_EQ(h.reconcile().result, "scaled") << cause;
    }
    {  // writing it fails
      Harness h;
      h.kube.patch_faults = {kind};
      const auto outcome = h.reconcile();
      EXPECT_EQ(outcome.fault_cause, cause);
      EXPECT_EQ(h.kube.replicas, 3);
      EXPECT_EQ(h.kube.events, 0);
      EXPECT_EQ(h.reconcile().result, "scaled") << cause;
      EXPECT_EQ(h.kube.replicas, 4);
    }
  }
}

TEST(Reconcile, RetriesABoundedNumberOfConflictsThenHolds) {
  Harness h;
  // A status update moved the version once: re-read, patch again, scaled.
  h.kube.patch_faults = {kube::KubeErrorKind::kConflict};
  EXPECT_EQ(h.reconcile().result, "scaled");
  EXPECT_EQ(h.kube.replicas, 4);
  // A storm: conflict after conflict; gives up after conflict_retries re-reads, writing nothing.
  h.kube.patch_faults.assign(10, kube::KubeErrorKind::kConflict);
  const auto storm = h.reconcile();
  EXPECT_EQ(storm.fault_cause, "kube_conflict");
  EXPECT_EQ(h.kube.patch_faults.size(), 10u - 4u);  // the first patch and three retries
  EXPECT_EQ(h.kube.replicas, 4);
  h.kube.patch_faults.clear();
  EXPECT_EQ(h.reconcile().result, "scaled");
}

TEST(Reconcile, HoldsWhenSomeoneElseScalesMeanwhile) {
  Harness h;
  h.suggestions.action = 0;
  h.kube.before_patch = [&] {  // the HPA or a person scales to 5 between the read and the write
    h.kube.before_patch = nullptr;
    h.kube.replicas = 5;
    ++h.kube.version;
  };
  const auto outcome = h.reconcile();
  EXPECT_EQ(outcome.fault_cause, "kube_conflict");
  EXPECT_NE(outcome.fault_message.find("replicas changed from 3 to 5"), std::string::npos);
  EXPECT_EQ(h.kube.replicas, 5);
  // A suggestion decided for other replicas than the deployment has is never applied to them.
  h.suggestions.decided_for = 3;
  EXPECT_EQ(h.reconcile().fault_cause, "suggestion_replicas_changed");
  EXPECT_EQ(h.kube.replicas, 5);
}

// Deleted and created again between the read and the write, with the same replicas: the write meets a 409,
// the re-read shows another uid — another deployment, which the suggestion was not decided for: hold.
TEST(Reconcile, HoldsWhenTheDeploymentIsCreatedAgainMidReconcileThenManagesTheNewOne) {
  Harness h;
  h.kube.before_patch = [&] {
    h.kube.before_patch = nullptr;
    h.kube.uid = "uid-2";
    ++h.kube.version;
  };
  const auto outcome = h.reconcile();
  EXPECT_EQ(outcome.fault_cause, "deployment_recreated");
  EXPECT_NE(outcome.fault_message.find("uid uid-1 is now uid-2"), std::string::npos) << outcome.fault_message;
  EXPECT_EQ(h.kube.patches, 0);
  EXPECT_EQ(h.reconcile().result, "scaled");  // the next interval manages the new one
  EXPECT_EQ(h.kube.replicas, 4);
}

TEST(Reconcile, ADeploymentCreatedAgainDoesNotInheritTheOldOnesCooldown) {
  Harness h;
  h.request.settings.cooldown = 300s;
  EXPECT_EQ(h.reconcile().result, "scaled");
  EXPECT_EQ(h.reconcile().decision->reason, DecisionReason::kCooldown);
  h.kube.uid = "uid-2";
  h.kube.replicas = 2;
  EXPECT_EQ(h.reconcile().result, "scaled");
  EXPECT_EQ(h.kube.replicas, 3);
}

TEST(Reconcile, AnEventThatCannotBeRecordedDoesNotUndoTheScale) {
  Harness h;
  h.kube.event_faults = {kube::KubeErrorKind::kForbidden};
  const auto outcome = h.reconcile();
  EXPECT_FALSE(outcome.held_by_fault());
  EXPECT_EQ(outcome.result, "scaled");
  EXPECT_EQ(outcome.event_cause, "event_forbidden");
  EXPECT_EQ(h.kube.replicas, 4);
}

// Random actions and faults: replicas stay within [min, max],
// and an interval with a fault never changes them.
RC_GTEST_PROP(Reconcile, NeverLeavesItsBoundsAndNeverChangesReplicasOnAFault, ()) {
  Harness h;
  h.kube.replicas = *rc::gen::inRange(2, 7);
  const auto intervals = *rc::gen::inRange(1, 40);
  for (int i = 0; i < intervals; ++i) {
    h.suggestions.action = *rc::gen::inRange(0, 3);
    h.suggestions.fault.reset();
    const int fault = *rc::gen::inRange(0, 6);
    if (fault == 1) h.suggestions.fault = "suggestion_unavailable";
    if (fault == 2) h.kube.get_faults = {kube::KubeErrorKind::kServerError};
    if (fault == 3) h.kube.patch_faults = {kube::KubeErrorKind::kTimeout};
    if (fault == 4) h.kube.patch_faults.assign(5, kube::KubeErrorKind::kConflict);
    const int before = h.kube.replicas;
    const auto outcome = h.reconcile();
    h.kube.get_faults.clear();
    h.kube.patch_faults.clear();
    if (outcome.held_by_fault()) RC_ASSERT(h.kube.replicas == before);
    RC_ASSERT(h.kube.replicas >= 2);
    RC_ASSERT(h.kube.replicas <= 6);
  }
}

}  // namespace
}  // namespace maestro::controller
