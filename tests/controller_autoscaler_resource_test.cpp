// The controller against the local Kubernetes API with MaestroAutoscaler resources, over HTTP on loopback,
// time driven by a ManualClock: creating, editing, pausing and deleting a resource does what an HPA user
// expects, status and conditions are written through the status subresource (spec edits bump the generation
// and observedGeneration follows), an HPA or a KEDA ScaledObject on the same target is refused with a
// condition and a Warning Event, a bad resource is refused in its status and changes nothing, dry-run decides
// without writing, and the fallback scales to its replicas after its count of failed intervals.
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <memory>

#include "base/clock.hpp"
#include "kube/client.hpp"
#include "kube/custom_resources.hpp"
#include "local/fake_kube_api.hpp"
#include "services/controller/config.hpp"
#include "services/controller/controller.hpp"
#include "services/controller/suggestion_client.hpp"
#include "support/controller_harness.hpp"
#include "support/eventually.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int kScaleDown = 0;
constexpr int kHold = 1;
constexpr int kScaleUp = 2;

json autoscaler(const std::string& name, const std::string& target, int min, int max) {
  return {{"apiVersion", "autoscaling.maestro.io/v1alpha1"},
          {"kind", "MaestroAutoscaler"},
          {"metadata", {{"name", name}, {"namespace", "shop"}}},
          {"spec",
           {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", target}}},
            {"minReplicas", min},
            {"maxReplicas", max},
            {"intervalSeconds", 15},
            {"policy", {{"type", "Learned"}, {"learned", {{"name", "maestro-ppo"}}}}}}}};
}

local::FakeDeployment web_deployment(bool annotated) {
  auto web = local::fake_deployment("shop", "web", 3);
  if (annotated) web.annotations = {{"maestro.io/autoscale", "true"}};
  return web;
}

// The controller managing the MaestroAutoscalers of namespace shop, and a client to write them with.
class AutoscalerHarness : public testing::ControllerHarness {
 public:
  // `extra`: more of the controller's configuration (e.g. discovery).
  explicit AutoscalerHarness(const std::string& extra = "", int refresh_seconds = 15)
      : ControllerHarness(Managing{fmt::format("autoscalers: {{namespace: shop, refresh_seconds: {}}}\n{}",
                                               refresh_seconds, extra)},
                          web_deployment(!extra.empty())) {}

  int send(const std::string& method, const std::string& path, const json& body,
           const std::string& content_type = "application/json") {
    // The HTTP client has no DELETE (the controller never deletes): that one goes to the API's handler.
    if (method == "DELETE") return api.handle({"DELETE", path, "", "Bearer test-token", "", "", ""}).status;
    auto response = method == "POST" ? kube->http().post(path, body.dump())
                                     : kube->http().patch(path, body.dump(), content_type);
    if (!response) throw std::runtime_error(response.error().message);
    return static_cast<int>(response->status);
  }
  int create(const json& object, const std::string& plural = "maestroautoscalers",
             const std::string& group_version = "autoscaling.maestro.io/v1alpha1") {
    return send("POST", fmt::format("/apis/{}/namespaces/shop/{}", group_version, plural), object);
  }
  int patch(const std::string& name, const json& patch) {
    return send("PATCH", "/apis/autoscaling.maestro.io/v1alpha1/namespaces/shop/maestroautoscalers/" + name,
                patch, "application/merge-patch+json");
  }
  json get(const std::string& name) {
    auto object = kube::get_object(*kube, kube::kMaestroAutoscalers, "shop", name);
    if (!object) throw std::runtime_error(object.error().message);
    return *object;
  }
  json condition(const std::string& name, const std::string& type) {
    for (const auto& c : get(name).value("status", json::object()).value("conditions", json::array()))
      if (c.value("type", "") == type) return c;
    return json::object();
  }
};

TEST(ControllerAutoscaler, CreateEditPauseDeleteDoWhatAnHpaUserExpects) {
  AutoscalerHarness h;
  h.suggestions.answer_action(kScaleUp);
  h.controller->run_due();
  EXPECT_TRUE(h.controller->managed().empty()) << "nothing to manage before a resource exists";
  EXPECT_EQ(h.replicas(), 3);

  // Create: the target is managed with the resource's bounds; status and conditions are written.
  ASSERT_EQ(h.create(autoscaler("web", "web", 2, 5)), 201);
  h.interval();
  EXPECT_EQ(h.controller->managed(), std::vector<std::string>{"shop/web"});
  EXPECT_EQ(h.replicas(), 4);
  json status = h.get("web")["status"];
  EXPECT_EQ(status["observedGeneration"], 1);
  EXPECT_EQ(status["currentReplicas"], 4);
  EXPECT_EQ(status["desiredReplicas"], 4);
  EXPECT_TRUE(status.contains("lastScaleTime"));
  EXPECT_EQ(status["lastDecision"]["result"], "scaled");
  EXPECT_EQ(status["lastDecision"]["action"], "scale_up");
  EXPECT_EQ(h.condition("web", "AbleToScale")["reason"], "SucceededRescale");
  EXPECT_EQ(h.condition("web", "ScalingActive")["status"], "True");
  EXPECT_EQ(h.condition("web", "ScalingLimited")["reason"], "DesiredWithinRange");
  EXPECT_EQ(h.get("web")["metadata"]["generation"], 1) << "a status write must not bump the generation";

  h.interval();
  h.interval();
  EXPECT_EQ(h.replicas(), 5) << "went past maxReplicas";
  EXPECT_EQ(h.condition("web", "ScalingLimited")["reason"], "TooManyReplicas");

  // Edit: a spec change bumps the generation; the new bounds apply and observedGeneration follows.
  ASSERT_EQ(h.patch("web", {{"spec", {{"maxReplicas", 7}}}}), 200);
  EXPECT_EQ(h.get("web")["metadata"]["generation"], 2);
  h.interval();
  h.interval();
  EXPECT_EQ(h.replicas(), 7);
  EXPECT_EQ(h.get("web")["status"]["observedGeneration"], 2);

  // Pause: held, and said so.
  ASSERT_EQ(h.patch("web", {{"spec", {{"paused", true}}}}), 200);
  h.suggestions.answer_action(kScaleDown);
  h.interval();
  h.interval();
  EXPECT_EQ(h.replicas(), 7);
  EXPECT_EQ(h.condition("web", "ScalingActive")["status"], "False");
  EXPECT_EQ(h.condition("web", "ScalingActive")["reason"], "ScalingDisabled");
  EXPECT_EQ(h.get("web")["status"]["lastDecision"]["result"], "paused");
  ASSERT_EQ(h.patch("web", {{"spec", {{"paused", false}}}}), 200);
  h.interval();
  EXPECT_EQ(h.replicas(), 6);
  EXPECT_EQ(h.condition("web", "ScalingActive")["status"], "True");

  // Delete: no longer managed; the replicas stay where they are.
  ASSERT_EQ(
      h.send("DELETE", "/apis/autoscaling.maestro.io/v1alpha1/namespaces/shop/maestroautoscalers/web", {}),
      200);
  h.interval();
  h.interval();
  EXPECT_TRUE(h.controller->managed().empty());
  EXPECT_EQ(h.replicas(), 6);
}

// With the watch, a resource created or deleted is acted on at the next tick, not at the next list an hour
// away; the controller's own status writes do not make it list again.
TEST(ControllerAutoscaler, TheWatchActsOnACreatedOrDeletedResourceBeforeTheNextList) {
  AutoscalerHarness h("", 3600);
  h.controller->run_due();  // the first list: nothing yet
  EXPECT_TRUE(h.controller->managed().empty());
  h.controller->start_autoscaler_watch();
  ASSERT_EQ(h.create(autoscaler("web", "web", 2, 6)), 201);
  EXPECT_TRUE(testing::eventually(
      [&] {
        h.controller->run_due();  // the clock stands still: only the watch can make it list
        return h.controller->managed() == std::vector<std::string>{"shop/web"};
      },
      10s));
  EXPECT_EQ(
      h.send("DELETE", "/apis/autoscaling.maestro.io/v1alpha1/namespaces/shop/maestroautoscalers/web", {}),
      200);
  EXPECT_TRUE(testing::eventually(
      [&] {
        h.controller->run_due();
        return h.controller->managed().empty();
      },
      10s));
}

TEST(ControllerAutoscaler, AResourceWinsOverAnnotationsAndGivesTheTargetBackWhenDeleted) {
  AutoscalerHarness h("defaults: {min_replicas: 1, max_replicas: 8}\ndiscovery: {refresh_seconds: 15}");
  h.suggestions.answer_action(kScaleUp);
  h.controller->run_due();
  h.interval();
  EXPECT_EQ(h.controller->managed(), std::vector<std::string>{"shop/web"}) << "the annotation manages it";
  const int by_annotation = h.replicas();
  EXPECT_GT(by_annotation, 3);

  ASSERT_EQ(h.create(autoscaler("web", "web", 1, by_annotation)), 201);
  for (int i = 0; i < 3; ++i) h.interval();
  EXPECT_EQ(h.replicas(), by_annotation)
      << "the resource's maxReplicas must win over the annotation's defaults";
  EXPECT_EQ(h.condition("web", "ScalingLimited")["reason"], "TooManyReplicas");

  ASSERT_EQ(
      h.send("DELETE", "/apis/autoscaling.maestro.io/v1alpha1/namespaces/shop/maestroautoscalers/web", {}),
      200);
  for (int i = 0; i < 3; ++i) h.interval();
  EXPECT_EQ(h.controller->managed(), std::vector<std::string>{"shop/web"}) << "the annotation takes it back";
  EXPECT_GT(h.replicas(), by_annotation);
}

TEST(ControllerAutoscaler, RefusesATargetAnHpaOrScaledObjectAlsoScalesWithAConditionAndAnEvent) {
  AutoscalerHarness h;
  h.suggestions.answer_action(kScaleUp);
  ASSERT_EQ(h.create(autoscaler("web", "web", 1, 10)), 201);
  const json hpa = {
      {"apiVersion", "autoscaling/v2"},
      {"kind", "HorizontalPodAutoscaler"},
      {"metadata", {{"name", "web-hpa"}, {"namespace", "shop"}}},
      {"spec",
       {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "web"}}},
        {"minReplicas", 1},
        {"maxReplicas", 10}}}};
  ASSERT_EQ(h.create(hpa, "horizontalpodautoscalers", "autoscaling/v2"), 201);
  h.controller->run_due();
  h.interval();
  EXPECT_EQ(h.replicas(), 3) << "acted on a target an HPA scales";
  const json active = h.condition("web", "ScalingActive");
  EXPECT_EQ(active["status"], "False");
  EXPECT_EQ(active["reason"], "AmbiguousSelector");
  EXPECT_NE(active["message"].get<std::string>().find("HorizontalPodAutoscaler shop/web-hpa"),
            std::string::npos)
      << active;
  const auto events = h.api.events();
  ASSERT_EQ(events.size(), 1u) << "one Event per conflict, not one per interval";
  EXPECT_EQ(events[0].type, "Warning");
  EXPECT_EQ(events[0].reason, "AmbiguousSelector");
  EXPECT_EQ(events[0].involved_kind, "MaestroAutoscaler");
  EXPECT_EQ(events[0].involved_name, "web");

  // The HPA removed, a KEDA ScaledObject added: still refused, named.
  ASSERT_EQ(h.send("DELETE", "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers/web-hpa", {}),
            200);
  const json scaled_object = {{"apiVersion", "keda.sh/v1alpha1"},
                              {"kind", "ScaledObject"},
                              {"metadata", {{"name", "web-keda"}, {"namespace", "shop"}}},
                              {"spec", {{"scaleTargetRef", {{"name", "web"}}}}}};
  ASSERT_EQ(h.create(scaled_object, "scaledobjects", "keda.sh/v1alpha1"), 201);
  h.interval();
  EXPECT_EQ(h.replicas(), 3);
  EXPECT_NE(
      h.condition("web", "ScalingActive")["message"].get<std::string>().find("ScaledObject shop/web-keda"),
      std::string::npos);

  // Both gone: it acts.
  ASSERT_EQ(h.send("DELETE", "/apis/keda.sh/v1alpha1/namespaces/shop/scaledobjects/web-keda", {}), 200);
  h.interval();
  EXPECT_EQ(h.replicas(), 4);
  EXPECT_EQ(h.condition("web", "ScalingActive")["status"], "True");

  // A ScaledObject whose fields have the wrong types (nlohmann's value() threw on them) targets nothing the
  // controller can name, and the controller goes on.
  const json garbled = {{"apiVersion", "keda.sh/v1alpha1"},
                        {"kind", "ScaledObject"},
                        {"metadata", {{"name", "garbled"}, {"namespace", "shop"}}},
                        {"spec", {{"scaleTargetRef", {{"name", 5}, {"kind", json::array()}}}}}};
  ASSERT_EQ(h.create(garbled, "scaledobjects", "keda.sh/v1alpha1"), 201);
  h.interval();
  EXPECT_EQ(h.replicas(), 5);
}

// As the HPA, any workload with a scale subresource: a StatefulSet is scaled through its own scale, within
// the resource's bounds, its Event naming it; the Deployment of the same namespace is left alone.
TEST(ControllerAutoscaler, ScalesAStatefulSetThroughItsScaleSubresource) {
  AutoscalerHarness h;
  auto cache = local::fake_deployment("shop", "cache", 3);
  cache.kind = "StatefulSet";
  h.api.put_deployment(cache);
  h.suggestions.answer_action(kScaleUp);
  json resource = autoscaler("cache", "cache", 2, 5);
  resource["spec"]["scaleTargetRef"]["kind"] = "StatefulSet";
  ASSERT_EQ(h.create(resource), 201);
  h.interval();
  EXPECT_EQ(h.controller->managed(), std::vector<std::string>{"shop/cache"});
  EXPECT_EQ(h.api.replicas("shop", "cache"), 4);
  EXPECT_EQ(h.replicas(), 3) << "the Deployment web is not the target";
  const auto writes = h.api.scale_writes();
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].name, "cache");
  const auto events = h.api.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].involved_kind, "StatefulSet");
  EXPECT_EQ(events[0].involved_name, "cache");
  EXPECT_EQ(h.get("cache")["status"]["currentReplicas"], 4);
  EXPECT_EQ(h.condition("cache", "AbleToScale")["reason"], "SucceededRescale");

  h.interval();
  h.interval();
  EXPECT_EQ(h.api.replicas("shop", "cache"), 5) << "held at maxReplicas";
  EXPECT_EQ(h.condition("cache", "ScalingLimited")["reason"], "TooManyReplicas");
}

TEST(ControllerAutoscaler, ABadResourceIsRefusedInItsStatusAndChangesNothing) {
  AutoscalerHarness h;
  h.suggestions.answer_action(kScaleUp);
  json bad =
      autoscaler("web", "web", 6, 4);  // min > max: the CRD's CEL rule refuses it; an old server may not
  ASSERT_EQ(h.create(bad), 201);
  json daemons = autoscaler("logs", "logs", 1, 4);  // a kind without a scale subresource
  daemons["spec"]["scaleTargetRef"]["kind"] = "DaemonSet";
  ASSERT_EQ(h.create(daemons), 201);
  h.controller->run_due();
  h.interval();
  EXPECT_EQ(h.replicas(), 3);
  EXPECT_TRUE(h.controller->managed().empty());
  const json invalid = h.condition("web", "ScalingActive");
  EXPECT_EQ(invalid["reason"], "InvalidSpec");
  EXPECT_NE(invalid["message"].get<std::string>().find("spec.minReplicas (6) must not be greater"),
            std::string::npos)
      << invalid;
  const json unscalable = h.condition("logs", "ScalingActive");
  EXPECT_EQ(unscalable["reason"], "FailedGetScale");
  EXPECT_NE(unscalable["message"].get<std::string>().find("apps/v1 serves no kind DaemonSet"),
            std::string::npos)
      << unscalable;
  EXPECT_EQ(h.api.scale_writes().size(), 0u);
}

// The HPA policy runs the controller's HPA source (hpa_source_test tests it); without Prometheus, as here, it
// holds and says why.
TEST(ControllerAutoscaler, TheHpaPolicyHoldsAndSaysWhyWithoutPrometheus) {
  AutoscalerHarness h;
  h.suggestions.answer_action(kScaleUp);
  json object = autoscaler("web", "web", 1, 10);
  object["spec"]["policy"] = {{"type", "HPA"}, {"hpa", {{"targetCPUUtilizationPercentage", 70}}}};
  ASSERT_EQ(h.create(object), 201);
  h.interval();
  EXPECT_EQ(h.replicas(), 3);
  const json active = h.condition("web", "ScalingActive");
  EXPECT_EQ(active["reason"], "FailedGetSuggestion");
  EXPECT_NE(active["message"].get<std::string>().find("no Prometheus"), std::string::npos) << active;
  EXPECT_EQ(h.get("web")["status"]["lastDecision"]["reason"], "hpa_unavailable");
}

TEST(ControllerAutoscaler, BehaviorLimitsTheRateAsAnHpasDoes) {
  AutoscalerHarness h;
  h.suggestions.answer_action(kScaleUp);
  json object = autoscaler("web", "web", 1, 10);
  object["spec"]["behavior"] = {
      {"scaleUp", {{"policies", {{{"type", "Pods"}, {"value", 1}, {"periodSeconds", 60}}}}}}};
  ASSERT_EQ(h.create(object), 201);
  h.interval();
  EXPECT_EQ(h.replicas(), 4);
  h.interval();
  h.interval();
  EXPECT_EQ(h.replicas(), 4) << "more than 1 pod per 60 s";
  EXPECT_EQ(h.condition("web", "ScalingLimited")["reason"], "ScaleUpLimit");
  h.interval();
  h.interval();
  EXPECT_EQ(h.replicas(), 5);
}

TEST(ControllerAutoscaler, DryRunDecidesWithoutWriting) {
  AutoscalerHarness h;
  h.suggestions.answer_action(kScaleUp);
  json object = autoscaler("web", "web", 1, 10);
  object["spec"]["dryRun"] = true;
  ASSERT_EQ(h.create(object), 201);
  h.interval();
  EXPECT_EQ(h.replicas(), 3);
  EXPECT_EQ(h.api.scale_writes().size(), 0u);
  const json status = h.get("web")["status"];
  EXPECT_EQ(status["lastDecision"]["result"], "dry_run");
  EXPECT_EQ(status["desiredReplicas"], 4);
  EXPECT_EQ(status["currentReplicas"], 3);
}

TEST(ControllerAutoscaler, FallbackScalesToItsReplicasAfterItsCountOfFailedIntervals) {
  AutoscalerHarness h;
  json object = autoscaler("web", "web", 1, 10);
  object["spec"]["fallback"] = {{"failureThreshold", 3}, {"replicas", 6}};
  ASSERT_EQ(h.create(object), 201);
  h.suggestions.answer_unavailable();
  h.interval();
  h.interval();
  EXPECT_EQ(h.replicas(), 3) << "fell back before failureThreshold";
  EXPECT_EQ(h.get("web")["status"]["consecutiveFailures"], 2);
  EXPECT_EQ(h.condition("web", "ScalingActive")["reason"], "FailedGetSuggestion");
  h.interval();
  EXPECT_EQ(h.replicas(), 6);
  EXPECT_EQ(h.get("web")["status"]["lastDecision"]["reason"], "FallbackReplicas");

  // Suggestions back: the policy decides again (its answer was decided for the replicas the target has).
  h.suggestions.answer_action(kHold);
  h.interval();
  EXPECT_EQ(h.get("web")["status"]["consecutiveFailures"], 0);
  EXPECT_EQ(h.condition("web", "ScalingActive")["status"], "True");
}

TEST(ControllerAutoscaler, TheLocalApiRefusesAStaleStatusWriteAndAWrongKind) {
  AutoscalerHarness h;
  ASSERT_EQ(h.create(autoscaler("web", "web", 1, 10)), 201);
  EXPECT_EQ(h.create(autoscaler("web", "web", 1, 10)), 409) << "created twice";
  const json stored = h.get("web");
  const std::string version = stored["metadata"]["resourceVersion"];
  ASSERT_TRUE(kube::patch_status(*h.kube, kube::kMaestroAutoscalers, "shop", "web", {{"currentReplicas", 1}},
                                 version));
  auto stale = kube::patch_status(*h.kube, kube::kMaestroAutoscalers, "shop", "web", {{"currentReplicas", 2}},
                                  version);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, kube::KubeErrorKind::kConflict);
  // A status write changes only .status; a spec write ignores .status.
  EXPECT_EQ(h.patch("web", {{"status", {{"currentReplicas", 9}}}}), 200);
  EXPECT_EQ(h.get("web")["status"]["currentReplicas"], 1);
  json wrong = autoscaler("other", "web", 1, 2);
  wrong["kind"] = "HorizontalPodAutoscaler";
  EXPECT_EQ(h.create(wrong), 400);
}

}  // namespace
}  // namespace maestro
