// The controller against the Kubernetes API test double and a stand-in suggestion server, over HTTP on
// loopback, with time driven by a ManualClock: it scales one step per interval within [min, max], records an
// Event for every scaling action, holds on every kind of failure and recovers once it clears, and changes
// nothing in dry-run. A property drives it through random actions and faults and checks that replicas never
// leave their bounds.
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <rapidcheck/gtest.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

#include "base/clock.hpp"
#include "kube/client.hpp"
#include "local/fake_kube_api.hpp"
#include "services/controller/config.hpp"
#include "services/controller/controller.hpp"
#include "services/controller/suggestion_client.hpp"
#include "support/controller_harness.hpp"
#include "support/fake_suggestion_server.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;
using local::FaultRule;
using local::KubeFault;
using testing::ControllerHarness;
using testing::metric_value;

constexpr int kScaleDown = 0;
constexpr int kHold = 1;
constexpr int kScaleUp = 2;

TEST(Controller, ScalesOneStepPerIntervalWithinBoundsAndRecordsEachAction) {
  ControllerHarness h;
  h.suggestions.answer_action(kScaleUp);
  h.controller->run_due();
  EXPECT_EQ(h.replicas(), 4);
  for (int i = 0; i < 5; ++i) h.interval();
  EXPECT_EQ(h.replicas(), 6) << "went past max";

  h.suggestions.answer_action(kScaleDown);
  for (int i = 0; i < 10; ++i) h.interval();
  EXPECT_EQ(h.replicas(), 2) << "went past min";

  const auto writes = h.api.scale_writes();
  ASSERT_EQ(writes.size(), 7u);  // 3→4→5→6, then 6→5→4→3→2: one write per change, none at a bound
  for (const auto& write : writes) {
    EXPECT_GE(write.to, 2);
    EXPECT_LE(write.to, 6);
    EXPECT_EQ(std::abs(write.to - write.from), 1);
  }
  const auto events = h.api.events();
  ASSERT_EQ(events.size(), writes.size());
  EXPECT_EQ(events[0].reason, "SuccessfulRescale");
  EXPECT_EQ(events[0].involved_name, "web");
  EXPECT_NE(events[0].message.find("New size: 4"), std::string::npos) << events[0].message;
  EXPECT_EQ(metric_value(h.registry, "maestro_controller_decisions_total",
                         {{"deployment", "web"}, {"action", "scale_up"}, {"result", "scaled"}}),
            3);
  EXPECT_EQ(metric_value(h.registry, "maestro_controller_decisions_total",
                         {{"deployment", "web"}, {"action", "scale_up"}, {"result", "held"}}),
            3);
}

TEST(Controller, HoldsOnHoldAndBringsAnOutOfBoundsDeploymentBack) {
  ControllerHarness h;
  h.suggestions.answer_action(kHold);
  h.controller->run_due();
  EXPECT_EQ(h.replicas(), 3);
  EXPECT_TRUE(h.api.scale_writes().empty());
  h.api.set_replicas("shop", "web", 40);  // someone scaled it by hand
  h.interval();
  EXPECT_EQ(h.replicas(), 6);
}

TEST(Controller, DryRunDecidesButChangesNothing) {
  ControllerHarness h("dry_run: true\n  min_replicas: 1\n  max_replicas: 9");
  h.suggestions.answer_action(kScaleUp);
  for (int i = 0; i < 3; ++i) h.interval();
  EXPECT_EQ(h.replicas(), 3);
  EXPECT_TRUE(h.api.scale_writes().empty());
  EXPECT_TRUE(h.api.events().empty());
  EXPECT_EQ(metric_value(h.registry, "maestro_controller_decisions_total", {{"result", "dry_run"}}), 3);
  EXPECT_EQ(metric_value(h.registry, "maestro_controller_desired_replicas", {{"deployment", "web"}}), 4);
}

TEST(Controller, WaitsOutTheCooldownAfterAChange) {
  ControllerHarness h("min_replicas: 1\n  max_replicas: 10\n  cooldown_seconds: 45");
  h.suggestions.answer_action(kScaleUp);
  h.controller->run_due();
  EXPECT_EQ(h.replicas(), 4);
  h.interval();  // 15 s
  h.interval();  // 30 s
  EXPECT_EQ(h.replicas(), 4);
  h.interval();  // 45 s: the change is exactly 45 s old and no longer within the cooldown
  EXPECT_EQ(h.replicas(), 5);
}

TEST(Controller, RetriesAPatchThatMetAConflictWithTheFreshVersion) {
  ControllerHarness h;
  h.suggestions.answer_action(kScaleUp);
  h.api.inject(FaultRule::next(2, KubeFault::kConflict, "PATCH"));
  h.controller->run_due();
  EXPECT_EQ(h.replicas(), 4) << "two conflicts are within the three re-reads allowed";
  EXPECT_EQ(h.errors("kube_conflict"), 0);
}

// One fault, the cause the controller reports for it, and how to clear it.
struct FaultCase {
  std::string name;
  std::function<void(ControllerHarness&)> inject;
  std::string cause;
};

void PrintTo(const FaultCase& fault, std::ostream* out) {
  *out << fault.name;
}

class ControllerFault : public ::testing::TestWithParam<FaultCase> {};

TEST_P(ControllerFault, HoldsWhileItLastsAndRecoversAfter) {
  ControllerHarness h;
  testing::CapturedLog log;
  h.suggestions.answer_action(kScaleUp);
  GetParam().inject(h);
  h.controller->run_due();
  EXPECT_EQ(h.replicas(), 3) << "acted during the fault";
  h.interval();
  EXPECT_EQ(h.replicas(), 3) << "acted during the fault";
  EXPECT_GE(h.errors(GetParam().cause), 2) << "cause not counted";
  EXPECT_NE(log.text().find("hold namespace=shop deployment=web cause=" + GetParam().cause),
            std::string::npos)
      << "no log line says why:\n"
      << log.text();
  EXPECT_TRUE(h.api.events().empty());

  h.api.clear_faults();
  h.suggestions.answer_action(kScaleUp);
  h.suggestions.decide_for(std::nullopt);
  h.interval();
  EXPECT_EQ(h.replicas(), 4) << "did not recover";
  EXPECT_EQ(h.api.events().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    EveryFault, ControllerFault,
    ::testing::Values(
        FaultCase{"PatchConflict",
                  [](auto& h) { h.api.inject(FaultRule::until_cleared(KubeFault::kConflict, "PATCH")); },
                  "kube_conflict"},
        FaultCase{"NotFound", [](auto& h) { h.api.inject(FaultRule::until_cleared(KubeFault::kNotFound)); },
                  "kube_not_found"},
        FaultCase{"Forbidden",
                  [](auto& h) { h.api.inject(FaultRule::until_cleared(KubeFault::kForbidden, "PATCH")); },
                  "kube_forbidden"},
        FaultCase{"ServerError",
                  [](auto& h) { h.api.inject(FaultRule::until_cleared(KubeFault::kServerError)); },
                  "kube_server_error"},
        FaultCase{"KubeHangs",
                  [](auto& h) { h.api.inject(FaultRule::until_cleared(KubeFault::kHang, "GET")); },
                  "kube_timeout"},
        FaultCase{"SuggestionUnavailable", [](auto& h) { h.suggestions.answer_unavailable(); },
                  "suggestion_unavailable"},
        FaultCase{"SuggestionGarbage", [](auto& h) { h.suggestions.answer_garbage(); },
                  "suggestion_malformed"},
        FaultCase{"SuggestionWithoutItsMeaning",
                  [](auto& h) { h.suggestions.answer_body(R"({"action": 2})"); }, "suggestion_malformed"},
        FaultCase{"SuggestionChangeUnknown",
                  [](auto& h) {
                    h.suggestions.answer_body(
                        R"({"action": 7, "replica_change": {"kind": "nodes", "amount": 1}, "replicas": 3})");
                  },
                  "suggestion_invalid_action"},
        // A utilisation target that the model server did not resolve into pods: the CPU is not known here.
        FaultCase{
            "SuggestionChangeUnresolvedTarget",
            [](auto& h) {
              h.suggestions.answer_body(
                  R"({"action": 1, "replica_change": {"kind": "utilisation", "amount": 30}, "replicas": 3})");
            },
            "suggestion_invalid_action"},
        FaultCase{"SuggestionDecidedForOtherReplicas", [](auto& h) { h.suggestions.decide_for(10); },
                  "suggestion_replicas_changed"},
        FaultCase{"SuggestionActionNotANumber",
                  [](auto& h) { h.suggestions.answer_body(R"({"action": "up"})"); },
                  "suggestion_invalid_action"},
        FaultCase{"SuggestionHangs", [](auto& h) { h.suggestions.hang(); }, "suggestion_timeout"}),
    [](const ::testing::TestParamInfo<FaultCase>& info) { return info.param.name; });

// Issue 11, finding 8: a suggestion made at 3 replicas used to be applied at 10 (→ 11). It is for 3: hold,
// say why, and patch nothing.
TEST(Controller, NeverAppliesASuggestionDecidedForOtherReplicas) {
  ControllerHarness h("min_replicas: 1\n  max_replicas: 20", 3);
  h.suggestions.answer_action(kScaleUp);
  h.suggestions.decide_for(3);
  h.api.set_replicas("shop", "web", 10);  // someone scaled between the suggestion and the controller's read
  h.controller->run_due();
  EXPECT_EQ(h.replicas(), 10);
  EXPECT_TRUE(h.api.scale_writes().empty());
  EXPECT_TRUE(h.api.events().empty());
  EXPECT_EQ(h.errors("suggestion_replicas_changed"), 1);
  // Decided for the replicas it has, the same action applies.
  h.suggestions.decide_for(10);
  h.interval();
  EXPECT_EQ(h.replicas(), 11);
}

// A larger action set's change flows through as the suggestion means it, within the bounds.
TEST(Controller, AppliesALargerChangeAsTheSuggestionMeansIt) {
  ControllerHarness h("min_replicas: 1\n  max_replicas: 7", 4);
  h.suggestions.answer_body(
      R"({"action": 7, "action_name": "+100%", "action_set": "multi", "replica_change": {"kind": "percent", )"
      R"("amount": 100}, "replicas": 4, "desired_replicas": 8})");
  h.controller->run_due();
  EXPECT_EQ(h.replicas(), 7);
  EXPECT_EQ(metric_value(h.registry, "maestro_controller_decisions_total",
                         {{"action", "+100%"}, {"result", "scaled"}}),
            1);
}

TEST(Controller, AnEventThatCannotBeRecordedDoesNotUndoTheScale) {
  ControllerHarness h;
  h.suggestions.answer_action(kScaleUp);
  h.api.inject(FaultRule::until_cleared(KubeFault::kForbidden, "POST", "/events"));
  h.controller->run_due();
  EXPECT_EQ(h.replicas(), 4);
  EXPECT_EQ(h.errors("event_forbidden"), 1);
}

TEST(Controller, DiscoversAnnotatedDeploymentsAndForgetsThemWhenTheAnnotationGoes) {
  ControllerHarness h("min_replicas: 1\n  max_replicas: 5", 3, /*discovery=*/true);
  auto annotated = local::fake_deployment("shop", "api", 2);
  annotated.annotations = {{"maestro.io/autoscale", "true"}, {"maestro.io/max-replicas", "3"}};
  h.api.put_deployment(annotated);
  h.suggestions.answer_action(kScaleUp);
  h.controller->tick();
  EXPECT_TRUE(h.controller->ready());
  EXPECT_EQ(h.controller->managed(), std::vector<std::string>{"shop/api"}) << "shop/web is not annotated";
  for (int i = 0; i < 4; ++i) h.interval();
  EXPECT_EQ(h.api.replicas("shop", "api"), 3) << "the max-replicas annotation was not honoured";
  EXPECT_EQ(h.replicas(), 3) << "an unannotated deployment was scaled";
  // Its series, counted by name and labels: a forgotten deployment's must not stay behind.
  const auto series_of_api = [&] {
    int count = 0;
    for (const auto& family : h.registry.Collect())
      for (const auto& metric : family.metric)
        count += std::ranges::any_of(metric.label, [](const auto& label) {
          return label.name == "deployment" && label.value == "api";
        });
    return count;
  };
  EXPECT_GE(series_of_api(), 2) << "its decisions by action and result, and its desired replicas";

  annotated.annotations.erase("maestro.io/autoscale");
  annotated.replicas = 3;
  h.api.put_deployment(annotated);
  h.clock.advance(60s);
  h.controller->run_due();
  EXPECT_TRUE(h.controller->managed().empty());
  EXPECT_EQ(series_of_api(), 0);
}

TEST(Controller, ExportsItsMetricsInThePrometheusTextFormat) {
  ControllerHarness h;
  h.suggestions.answer_unavailable();
  h.controller->run_due();
  const std::string text = prometheus::TextSerializer().Serialize(h.registry.Collect());
  EXPECT_NE(text.find("maestro_controller_errors_total{cause=\"suggestion_unavailable\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("maestro_controller_loop_duration_seconds_count 1"), std::string::npos) << text;
  EXPECT_NE(text.find("maestro_controller_managed_deployments 1"), std::string::npos) << text;
}

// Random actions, random faults, and someone else scaling by hand now and then: every write the controller
// makes is within [min, max] and one step from where it started (or brings the deployment back in bounds).
RC_GTEST_PROP(Controller, NeverScalesOutsideItsBoundsWhateverHappens, ()) {
  spdlog::set_level(spdlog::level::err);  // hundreds of faults, each logged
  const int min = *rc::gen::inRange(0, 4);
  const int max = *rc::gen::inRange(std::max(1, min), 8);
  const int initial = *rc::gen::inRange(min, max + 1);
  ControllerHarness h(fmt::format("min_replicas: {}\n  max_replicas: {}", min, max), initial);
  const int steps = *rc::gen::inRange(1, 15);
  for (int step = 0; step < steps; ++step) {
    h.suggestions.answer_action(*rc::gen::inRange(0, 3));
    switch (*rc::gen::inRange(0, 10)) {
      case 0:
        h.api.inject(FaultRule::next(*rc::gen::inRange(1, 5), KubeFault::kConflict, "PATCH"));
        break;
      case 1:
        h.api.inject(FaultRule::next(1, *rc::gen::element(KubeFault::kNotFound, KubeFault::kForbidden,
                                                          KubeFault::kServerError, KubeFault::kGone)));
        break;
      case 2:
        h.suggestions.answer_unavailable();
        break;
      case 3:
        h.suggestions.answer_garbage();
        break;
      case 4:
        h.api.set_replicas("shop", "web", *rc::gen::inRange(0, 12));
        break;
      default:
        break;
    }
    h.interval();
    h.api.clear_faults();
  }
  for (const auto& write : h.api.scale_writes()) {
    RC_ASSERT(write.to >= min);
    RC_ASSERT(write.to <= max);
  }
  RC_ASSERT(h.api.events().size() == h.api.scale_writes().size());
}

}  // namespace
}  // namespace maestro
