// The HPA as the controller's decision source, with in-memory fakes of the Kubernetes API (scale, pods) and
// Prometheus: the pods list parsed as the local cluster's API writes it; the HPA's desired replicas from
// per-pod CPU and requests, its tolerance, unready pods, stabilisation window and rate limit carried across
// intervals; every failure holds; and the policy chosen per deployment by configuration and annotation.
#include "services/controller/hpa_source.hpp"

#include <gtest/gtest.h>

#include <prometheus/registry.h>
#include <cmath>
#include <limits>

#include "kube/cpu_request.hpp"
#include "services/controller/config.hpp"
#include "services/controller/controller.hpp"
#include "services/controller/reconcile.hpp"

namespace maestro::controller {
namespace {

using namespace std::chrono_literals;

const auto kWallNow = std::chrono::system_clock::from_time_t(1'800'000'000);

kube::KubeError kube_error(kube::KubeErrorKind kind) {
  kube::KubeError error;
  error.message = "injected";
  error.kind = kind;
  return error;
}

// "shop/web", selector app=web.
class FakeScale final : public ScaleClient {
 public:
  int replicas = 3;
  int version = 1;
  int events = 0;
  std::optional<kube::KubeErrorKind> get_fault;

  kube::KubeResult<kube::Scale> get_scale(const std::string&, const std::string&) override {
    if (get_fault) return std::unexpected(kube_error(*get_fault));
    return current();
  }
  kube::KubeResult<kube::Scale> patch_scale(const std::string&, const std::string&, int desired,
                                            const std::string& resource_version) override {
    if (resource_version != std::to_string(version))
      return std::unexpected(kube_error(kube::KubeErrorKind::kConflict));
    replicas = desired;
    ++version;
    return current();
  }
  kube::KubeResult<void> create_event(const kube::DeploymentEvent&) override {
    ++events;
    return {};
  }
  kube::KubeResult<std::vector<kube::Deployment>> list_deployments_annotated(const std::string&,
                                                                             const std::string&,
                                                                             const std::string&) override {
    return std::vector<kube::Deployment>{};
  }

 private:
  kube::Scale current() const {
    kube::Scale scale;
    scale.name = "web";
    scale.namespace_ = "shop";
    scale.resource_version = std::to_string(version);
    scale.replicas = replicas;
    scale.selector = "app=web";
    return scale;
  }
};

class FakePods final : public PodLister {
 public:
  std::vector<PodStatus> pods;
  std::optional<kube::KubeErrorKind> fault;
  std::string asked_selector;

  kube::KubeResult<std::vector<PodStatus>> list_pods(const std::string&,
                                                     const std::string& selector) override {
    asked_selector = selector;
    if (fault) return std::unexpected(kube_error(*fault));
    return pods;
  }
};

// Per-pod CPU in cores, as `sum by (pod) (rate(…))` answers.
class FakeCpu final : public prom::MetricsSource {
 public:
  std::map<std::string, double> cores;
  std::optional<prom::QueryErrorKind> fault;
  std::string asked;

  prom::QueryResult<double> value(std::string_view) override {
    return std::unexpected(prom::QueryError{{"not used"}, prom::QueryErrorKind::kMalformed});
  }
  prom::QueryResult<std::vector<prom::Sample>> samples(std::string_view promql) override {
    asked = promql;
    if (fault) return std::unexpected(prom::QueryError{{"injected"}, *fault});
    std::vector<prom::Sample> answer;
    for (const auto& [pod, value] : cores) answer.push_back({{{"pod", pod}}, 0, value});
    return answer;
  }
};

PodStatus ready_pod(std::string name, std::chrono::seconds age = 600s) {
  PodStatus pod;
  pod.name = std::move(name);
  pod.ready = true;
  pod.start_time = kWallNow - age;
  pod.ready_transition = kWallNow - age + 5s;
  pod.cpu_request_m = 500;
  return pod;
}

// Bounds 1–10, the HPA at 50 % with a 60 s scale-down window.
DeploymentSettings hpa_settings() {
  DeploymentSettings settings;
  settings.bounds = {1, 10};
  settings.source = DecisionSource::kHpa;
  settings.hpa = {50, 60s};
  return settings;
}

struct Fixture {
  FakeScale scale;
  FakePods pods;
  FakeCpu cpu;
  base::ManualClock clock{base::Clock::TimePoint{} + 100'000s};
  std::chrono::system_clock::time_point wall = kWallNow;
  HpaSource source{scale, pods, cpu, clock, options()};
  ScalingHistory history;
  DeploymentSettings settings = hpa_settings();

  HpaSourceOptions options() {
    HpaSourceOptions options;
    options.wall_clock = [this] { return wall; };
    return options;
  }
  Fixture() {
    for (int i = 0; i < 3; ++i) pods.pods.push_back(ready_pod(fmt::format("web-abc-{}", i)));
  }
  // Every listed pod at `cores` of CPU.
  void load(double cores) {
    cpu.cores.clear();
    for (const auto& pod : pods.pods) cpu.cores[pod.name] = cores;
  }
  ReconcileOutcome reconcile() {
    HpaSuggestions suggestions(source, settings);
    return reconcile_deployment({"shop", "web", settings, clock.now(), 3}, history, scale, suggestions);
  }
  void advance(std::chrono::seconds by) {
    clock.advance(by);
    wall += by;
  }
};

TEST(PodList, ParsesThePodsAsTheLocalClusterListsThem) {
  const auto pods = parse_pod_list(R"({"kind":"PodList","items":[
    {"metadata":{"name":"web-1"},"spec":{"containers":[{"name":"web","resources":{"limits":{"cpu":"500m"}}}]},
     "status":{"phase":"Running","startTime":"2027-01-15T08:00:00Z",
               "conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2027-01-15T08:00:07Z"}]}},
    {"metadata":{"name":"web-2","deletionTimestamp":"2027-01-15T08:01:00Z"},
     "spec":{"containers":[{"name":"web","resources":{"requests":{"cpu":"0.25"},"limits":{"cpu":"1"}}}]},
     "status":{"phase":"Running","conditions":[{"type":"Ready","status":"False"}]}},
    {"metadata":{"name":"web-3"},"spec":{"containers":[{"name":"web","resources":{}}]},
     "status":{"phase":"Pending"}}]})");
  ASSERT_TRUE(pods) << pods.error().message;
  ASSERT_EQ(pods->size(), 3u);
  const PodStatus& first = (*pods)[0];
  EXPECT_EQ(first.cpu_request_m, 500);  // the API server defaults a request to its limit
  EXPECT_EQ(first.ready, true);
  EXPECT_EQ(first.start_time, parse_kube_time("2027-01-15T08:00:00Z"));
  EXPECT_EQ(*first.ready_transition - *first.start_time, 7s);
  EXPECT_FALSE(first.deleting);
  EXPECT_TRUE((*pods)[1].deleting);
  EXPECT_EQ((*pods)[1].cpu_request_m, 250);
  EXPECT_EQ((*pods)[1].ready, false);
  EXPECT_FALSE((*pods)[1].ready_transition);
  EXPECT_EQ((*pods)[2].phase, "Pending");
  EXPECT_FALSE((*pods)[2].cpu_request_m);
  EXPECT_FALSE((*pods)[2].ready);

  EXPECT_FALSE(parse_pod_list("not json"));
  EXPECT_FALSE(parse_pod_list(R"({"items":[{"metadata":{}}]})"));
}

TEST(PodList, ReadsQuantitiesAndTimesAsKubernetesWritesThem) {
  EXPECT_EQ(kube::cpu_millicores("250m"), 250);
  EXPECT_EQ(kube::cpu_millicores("1"), 1000);
  EXPECT_EQ(kube::cpu_millicores("0.1"), 100);
  EXPECT_EQ(kube::cpu_millicores("1.0005"), 1001);  // rounded up, as MilliValue()
  EXPECT_FALSE(kube::cpu_millicores("a lot"));
  EXPECT_FALSE(kube::cpu_millicores(""));
  // Beyond int64 millicores the conversion was undefined behaviour (UBSan: float-cast-overflow).
  EXPECT_FALSE(kube::cpu_millicores("1e300"));
  EXPECT_FALSE(kube::cpu_millicores("9223372036854775808k"));
  EXPECT_EQ(kube::cpu_millicores("1000000000"), 1'000'000'000'000);
  EXPECT_EQ(parse_kube_time("1970-01-01T00:01:00Z"), std::chrono::system_clock::from_time_t(60));
  EXPECT_EQ(parse_kube_time("1970-01-01T01:01:00+01:00"), std::chrono::system_clock::from_time_t(60));
  EXPECT_EQ(parse_kube_time("1970-01-01T00:01:00.5Z"), std::chrono::system_clock::from_time_t(60) + 500ms);
  EXPECT_FALSE(parse_kube_time("yesterday"));
  // Beyond system_clock's range (2262): the conversion overflowed, undefined behaviour.
  EXPECT_FALSE(parse_kube_time("9999-01-01T00:00:00Z"));
}

TEST(HpaSource, ScalesToTheReplicasThatBringCpuToTheTarget) {
  Fixture f;
  f.load(0.45);  // 90 % of request against a 50 % target: ceil(1.8 × 3) = 6
  const auto outcome = f.reconcile();
  EXPECT_EQ(outcome.result, "scaled") << outcome.fault_cause << " " << outcome.fault_message;
  EXPECT_EQ(f.scale.replicas, 6);
  EXPECT_EQ(f.scale.events, 1);
  EXPECT_EQ(outcome.action, "hpa_6");
  EXPECT_EQ(f.pods.asked_selector, "app=web");
  EXPECT_EQ(f.cpu.asked, pod_cpu_query("shop", "web", 60s));
  EXPECT_NE(f.cpu.asked.find(R"(namespace="shop")"), std::string::npos);
}

TEST(HpaSource, HoldsWithinTheTolerance) {
  Fixture f;
  f.load(0.27);  // 54 %: ratio 1.08, within 0.1
  const auto outcome = f.reconcile();
  EXPECT_EQ(outcome.result, "held");
  EXPECT_EQ(f.scale.replicas, 3);
}

TEST(HpaSource, CountsUnreadyPodsAtZeroWhenScalingUp) {
  Fixture f;
  f.pods.pods.push_back(ready_pod("web-abc-new", 20s));
  f.pods.pods.back().ready = false;
  f.load(0.45);
  f.cpu.cores["web-abc-new"] = 0.5;  // a starting pod's burst: ignored
  // Ready pods at 90 %: ratio 1.8; the unready pod at 0 → 1.35 × 4 pods = ceil(5.4) = 6.
  f.scale.replicas = 4;
  const auto outcome = f.reconcile();
  EXPECT_EQ(outcome.result, "scaled") << outcome.fault_message;
  EXPECT_EQ(f.scale.replicas, 6);
}

TEST(HpaSource, ScaleDownWaitsForTheStabilisationWindowCarriedAcrossIntervals) {
  Fixture f;
  f.load(0.45);
  ASSERT_EQ(f.reconcile().result, "scaled");
  ASSERT_EQ(f.scale.replicas, 6);
  for (int i = 0; i < 6; ++i) f.pods.pods.push_back(ready_pod(fmt::format("web-def-{}", i)));
  f.pods.pods.resize(6);
  f.load(0.05);  // 10 %: wants 2
  // Within the 60 s window the highest recommendation (6) stands.
  for (int i = 0; i < 3; ++i) {
    f.advance(15s);
    EXPECT_EQ(f.reconcile().result, "held") << "interval " << i;
    EXPECT_EQ(f.scale.replicas, 6);
  }
  f.advance(15s);
  f.advance(15s);
  EXPECT_EQ(f.reconcile().result, "scaled");
  EXPECT_EQ(f.scale.replicas, 2);
}

TEST(HpaSource, ScaleUpIsRateLimitedPerPeriod) {
  Fixture f;
  f.settings.bounds.max = 50;
  f.scale.replicas = 1;
  f.pods.pods.resize(1);
  f.load(5.0);  // 1000 %: wants 20; the API's default allows max(4 pods, 100 %) per 15 s
  ASSERT_EQ(f.reconcile().result, "scaled");
  EXPECT_EQ(f.scale.replicas, 5);
}

TEST(HpaSource, EveryFailureHolds) {
  struct Case {
    std::string cause;
    std::function<void(Fixture&)> fault;
  };
  const std::vector<Case> cases = {
      {"hpa_prometheus_unreachable", [](Fixture& f) { f.cpu.fault = prom::QueryErrorKind::kUnreachable; }},
      {"hpa_no_metrics", [](Fixture& f) { f.cpu.cores.clear(); }},
      {"hpa_no_metrics",
       [](Fixture& f) {
         for (auto& [pod, cores] : f.cpu.cores) cores = std::numeric_limits<double>::quiet_NaN();
       }},
      {"hpa_no_metrics", [](Fixture& f) { f.pods.pods[0].cpu_request_m.reset(); }},
      {"hpa_no_metrics",
       [](Fixture& f) {
         for (auto& pod : f.pods.pods) pod.ready = false;
       }},
      {"hpa_kube_unreachable", [](Fixture& f) { f.pods.fault = kube::KubeErrorKind::kUnreachable; }},
      {"hpa_kube_forbidden", [](Fixture& f) { f.scale.get_fault = kube::KubeErrorKind::kForbidden; }},
  };
  for (const auto& c : cases) {
    Fixture f;
    f.load(0.45);
    c.fault(f);
    const auto outcome = f.reconcile();
    EXPECT_EQ(outcome.fault_cause, c.cause) << outcome.fault_message;
    EXPECT_EQ(f.scale.replicas, 3);
    EXPECT_EQ(f.scale.version, 1);  // nothing written
  }
}

TEST(HpaSource, OnePodWithoutASampleCountsAsMissing) {
  Fixture f;
  f.load(0.05);                    // 10 %: a scale-down …
  f.cpu.cores.erase("web-abc-2");  // … with a pod missing: assumed at 100 % of request
  // (0.05 + 0.05 + 0.5) / 1.5 = 40 % → ratio 0.8 → ceil(0.8 × 3) = 3: held.
  f.settings.hpa.downscale_stabilization = 0s;
  EXPECT_EQ(f.reconcile().result, "held");
  EXPECT_EQ(f.scale.replicas, 3);
}

TEST(HpaPolicy, ChosenByConfigurationAndAnnotation) {
  const auto config = parse_controller_config(R"(
suggestion_server: http://127.0.0.1:8081
kubernetes: {server: http://127.0.0.1:1}
prometheus: {url: http://127.0.0.1:9090, rate_window_seconds: 20}
deployments:
  - {name: web, policy: hpa, hpa_target_utilization_percent: 60, hpa_downscale_stabilization_seconds: 30}
  - {name: api}
)");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->prometheus.url, "http://127.0.0.1:9090");
  EXPECT_EQ(config->prometheus.rate_window, 20s);
  EXPECT_EQ(config->deployments[0].settings.source, DecisionSource::kHpa);
  EXPECT_EQ(config->deployments[0].settings.hpa.target_utilization_percent, 60);
  EXPECT_EQ(config->deployments[0].settings.hpa.downscale_stabilization, 30s);
  EXPECT_EQ(config->deployments[1].settings.source, DecisionSource::kLearned);  // the default

  const auto without_prometheus = parse_controller_config(R"(
suggestion_server: http://127.0.0.1:8081
kubernetes: {server: http://127.0.0.1:1}
deployments: [{name: web, policy: hpa}]
)");
  ASSERT_FALSE(without_prometheus);
  EXPECT_NE(without_prometheus.error().message.find("config.prometheus.url"), std::string::npos);
  EXPECT_FALSE(parse_controller_config(R"(
suggestion_server: http://127.0.0.1:8081
kubernetes: {server: http://127.0.0.1:1}
deployments: [{name: web, policy: magic}]
)"));

  const auto annotated =
      settings_from_annotations({}, {{kPolicyAnnotation, "hpa"}, {kHpaTargetAnnotation, "70"}});
  ASSERT_TRUE(annotated) << annotated.error().message;
  EXPECT_EQ(annotated->source, DecisionSource::kHpa);
  EXPECT_EQ(annotated->hpa.target_utilization_percent, 70);
  EXPECT_FALSE(settings_from_annotations({}, {{kPolicyAnnotation, "oracle"}}));
  EXPECT_FALSE(settings_from_annotations({}, {{kHpaTargetAnnotation, "0"}}));
}

// The suggestion server is never asked for a deployment the HPA decides.
class NoSuggestions final : public SuggestionSource {
 public:
  int asked = 0;
  std::expected<Suggestion, SuggestionError> ask(const std::string&, const std::string&) override {
    ++asked;
    SuggestionError error;
    error.cause = "suggestion_unreachable";
    return std::unexpected(error);
  }
};

TEST(HpaPolicy, TheControllerAsksTheHpaForItsDeploymentsAndHoldsWithoutOne) {
  ControllerConfig config;
  config.workers = 1;
  config.deployments = {
      {"shop", "web", {.bounds = {1, 10}, .source = DecisionSource::kHpa, .hpa = {50, 60s}}}};
  {
    Fixture f;
    f.load(0.45);
    NoSuggestions suggestions;
    prometheus::Registry registry;
    Controller controller(config, f.scale, suggestions, f.clock, registry, &f.source);
    EXPECT_EQ(controller.reconcile_all(), 0);
    EXPECT_EQ(f.scale.replicas, 6);
    EXPECT_EQ(suggestions.asked, 0);
  }
  Fixture f;
  f.load(0.45);
  NoSuggestions suggestions;
  prometheus::Registry registry;
  Controller controller(config, f.scale, suggestions, f.clock, registry);
  EXPECT_EQ(controller.reconcile_all(), 1);  // held: hpa_unavailable
  EXPECT_EQ(f.scale.replicas, 3);
  EXPECT_EQ(suggestions.asked, 0);
}

}  // namespace
}  // namespace maestro::controller
