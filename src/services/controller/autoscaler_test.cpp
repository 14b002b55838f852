// A MaestroAutoscaler's spec as the controller reads it: a valid one in full, each bad one refused with a
// message naming the field, and conditions whose transition time moves only with their status.
#include "services/controller/autoscaler.hpp"

#include <gtest/gtest.h>

namespace maestro::controller {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

json example() {
  return json::parse(R"json({
    "apiVersion": "autoscaling.maestro.io/v1alpha1", "kind": "MaestroAutoscaler",
    "metadata": {"name": "web", "namespace": "shop", "uid": "u-1", "generation": 3},
    "spec": {
      "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web-app"},
      "minReplicas": 2, "maxReplicas": 10, "intervalSeconds": 30,
      "slo": {"latencySoftMilliseconds": 250, "latencyHardMilliseconds": 500},
      "policy": {"type": "Learned", "learned": {"name": "maestro-ppo"}},
      "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300, "selectPolicy": "Min",
                                 "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}]}},
      "dryRun": true, "fallback": {"failureThreshold": 4, "replicas": 4},
      "metrics": {"queries": {"rps": "sum(rate(requests_total{namespace=\"$namespace\",pod=~\"$pods\"}[$window]))"}}
    }})json");
}

TEST(Autoscaler, ReadsEveryField) {
  auto parsed = parse_autoscaler(example());
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->namespace_, "shop");
  EXPECT_EQ(parsed->generation, 3);
  EXPECT_EQ(parsed->target.name, "web-app");
  EXPECT_EQ(target_key(*parsed), "shop/web-app");
  EXPECT_EQ(parsed->bounds.min, 2);
  EXPECT_EQ(parsed->bounds.max, 10);
  EXPECT_EQ(parsed->interval, 30s);
  EXPECT_EQ(parsed->policy, AutoscalerPolicy::kLearned);
  EXPECT_EQ(parsed->learned_policy, "maestro-ppo");
  EXPECT_EQ(parsed->latency_soft_ms, 250);
  EXPECT_EQ(parsed->latency_hard_ms, 500);
  ASSERT_TRUE(parsed->scale_down);
  EXPECT_FALSE(parsed->scale_up);
  EXPECT_EQ(parsed->scale_down->stabilization_window, 300s);
  EXPECT_EQ(parsed->scale_down->select, core::PolicySelect::kMin);
  ASSERT_EQ(parsed->scale_down->policies.size(), 1u);
  EXPECT_EQ(parsed->scale_down->policies[0].type, core::ScalingPolicyType::kPercent);
  EXPECT_TRUE(parsed->dry_run);
  EXPECT_FALSE(parsed->paused);
  ASSERT_TRUE(parsed->fallback);
  EXPECT_EQ(parsed->fallback->replicas, 4);

  DeploymentSettings defaults;
  defaults.step = 2;
  const auto settings = settings_for(defaults, *parsed);
  EXPECT_EQ(settings.bounds.max, 10);
  EXPECT_EQ(settings.interval, 30s);
  EXPECT_EQ(settings.step, 2);
  EXPECT_TRUE(settings.dry_run);
}

TEST(Autoscaler, MinReplicasDefaultsToOneAndHpaPolicyReadsItsTarget) {
  json object = example();
  object["spec"].erase("minReplicas");
  object["spec"].erase("fallback");
  object["spec"]["policy"] = {{"type", "HPA"}, {"hpa", {{"targetCPUUtilizationPercentage", 70}}}};
  auto parsed = parse_autoscaler(object);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->bounds.min, 1);
  EXPECT_EQ(parsed->policy, AutoscalerPolicy::kHpa);
  EXPECT_EQ(parsed->target_cpu_utilization, 70);
}

struct BadSpec {
  const char* what;
  const char* pointer;  // the field changed
  json value;           // null: removed
  const char* message;  // what the error must say
};

class AutoscalerRefuses : public testing::TestWithParam<BadSpec> {};

TEST_P(AutoscalerRefuses, NamingTheField) {
  const BadSpec& bad = GetParam();
  json object = example();
  const json::json_pointer at(bad.pointer);
  if (bad.value.is_null())
    object[at.parent_pointer()].erase(at.back());
  else
    object[at] = bad.value;
  auto parsed = parse_autoscaler(object);
  ASSERT_FALSE(parsed) << bad.what;
  EXPECT_NE(parsed.error().message.find(bad.message), std::string::npos) << parsed.error().message;
  EXPECT_EQ(parsed.error().message.rfind("MaestroAutoscaler shop/web: ", 0), 0u) << parsed.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    BadSpecs, AutoscalerRefuses,
    testing::Values(
        BadSpec{"min > max", "/spec/minReplicas", 12,
                "spec.minReplicas (12) must not be greater than spec.maxReplicas (10)"},
        BadSpec{"unknown policy", "/spec/policy/type", "Magic",
                "spec.policy.type: must be Learned or HPA, not \"Magic\""},
        BadSpec{"learned without a name", "/spec/policy/learned", nullptr,
                "a Learned policy needs learned.name"},
        BadSpec{"no max", "/spec/maxReplicas", nullptr, "spec.maxReplicas: required"},
        BadSpec{"max as a string", "/spec/maxReplicas", "10", "spec.maxReplicas: must be an integer"},
        BadSpec{"zero min", "/spec/minReplicas", 0, "spec.minReplicas: must be between 1 and"},
        BadSpec{"soft over hard", "/spec/slo/latencySoftMilliseconds", 900,
                "latencySoftMilliseconds (900) must be less than latencyHardMilliseconds (500)"},
        BadSpec{"misspelt field", "/spec/dryrun", true, "spec: unknown field \"dryrun\""},
        BadSpec{"fallback over max", "/spec/fallback/replicas", 40,
                "spec.fallback.replicas (40) must be within"},
        BadSpec{"a policy type in behavior there is not", "/spec/behavior/scaleDown/policies/0/type", "Nodes",
                "spec.behavior.scaleDown.policies[0].type: must be Pods or Percent"},
        BadSpec{"no target name", "/spec/scaleTargetRef/name", "",
                "spec.scaleTargetRef: kind and name are required"},
        BadSpec{"paused as a string", "/spec/paused", "yes", "spec.paused: must be true or false"},
        BadSpec{"a query with an unknown placeholder", "/spec/metrics/queries/rps", "sum(rate(x[$windw]))",
                "spec.metrics.queries.rps: query template has an unknown placeholder '$windw'"},
        BadSpec{"a query of a metric there is not", "/spec/metrics/queries/requests", "sum(x)",
                "spec.metrics.queries: unknown field \"requests\""},
        BadSpec{"an empty query", "/spec/metrics/queries/latency", "",
                "spec.metrics.queries.latency: must be a non-empty string"}));

TEST(Autoscaler, RefusesAnotherKind) {
  json object = example();
  object["kind"] = "HorizontalPodAutoscaler";
  EXPECT_FALSE(parse_autoscaler(object));
  EXPECT_FALSE(parse_autoscaler(json::array()));
  // Of the wrong type: refused, not thrown (found by fuzz/kube_response).
  object["kind"] = 5;
  EXPECT_FALSE(parse_autoscaler(object));
  object = example();
  object["apiVersion"] = json::array();
  EXPECT_FALSE(parse_autoscaler(object));
}

TEST(AutoscalerStatus, ConditionTransitionTimeMovesOnlyWithItsStatus) {
  AutoscalerStatus status;
  status.set_condition("ScalingActive", "True", "ValidSuggestion", "deciding", "2026-11-30T10:00:00Z");
  status.set_condition("ScalingActive", "True", "ValidSuggestion", "still deciding", "2026-11-30T10:01:00Z");
  EXPECT_EQ(status.condition("ScalingActive")->last_transition_time, "2026-11-30T10:00:00Z");
  EXPECT_EQ(status.condition("ScalingActive")->message, "still deciding");
  status.set_condition("ScalingActive", "False", "ScalingDisabled", "paused", "2026-11-30T10:02:00Z");
  EXPECT_EQ(status.condition("ScalingActive")->last_transition_time, "2026-11-30T10:02:00Z");

  status.observed_generation = 2;
  status.current_replicas = 3;
  status.last_decision =
      AutoscalerDecision{"2026-11-30T10:02:00Z", "scale_up", "paused", "ScalingDisabled", "paused"};
  const auto round_trip = AutoscalerStatus::from_json(status.to_json());
  EXPECT_EQ(round_trip.to_json(), status.to_json());
  EXPECT_EQ(round_trip.current_replicas, 3);
  EXPECT_FALSE(round_trip.desired_replicas);
}

}  // namespace
}  // namespace maestro::controller
