// Faults upstream of the suggestion server, through real HTTP: the controller asks the suggestion server,
// which reads the deployment from the Kubernetes API test double and its metrics from a stand-in Prometheus.
// When Prometheus has only part of the deployment's pods, refuses the suggestion server's credentials, or the
// model fails, the controller holds — never the scale-down the model would have asked for — says why (a
// log line and maestro_controller_errors_total{cause="suggestion_unavailable"}), and scales at the first
// interval after the fault clears.
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <atomic>

#include "base/clock.hpp"
#include "kube/client.hpp"
#include "local/fake_kube_api.hpp"
#include "prom/query_client.hpp"
#include "prom/state_builder.hpp"
#include "services/controller/config.hpp"
#include "services/controller/controller.hpp"
#include "services/controller/suggestion_client.hpp"
#include "services/suggestion_server/kube_deployment_source.hpp"
#include "services/suggestion_server/suggestion_server.hpp"
#include "support/fake_prometheus.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;

// Always asks to scale down by one: what a fault must never make happen.
class ScaleDownModel final : public suggestion_server::ActionModel {
 public:
  std::atomic<bool> up{true};
  Result<suggestion_server::PolicyNeeds> needs() override {
    return suggestion_server::PolicyNeeds{.model_version = "down", .features = {}, .needs_features = false};
  }
  Result<suggestion_server::ModelAnswer> predict(const core::Observation& observation,
                                                 std::span<const double>, std::optional<double>) override {
    if (!up) return fail("model server unreachable: connection refused");
    const int replicas = static_cast<int>(observation.replicas);
    return suggestion_server::ModelAnswer{.action = 0,
                                          .action_name = "scale_down",
                                          .action_set = "original",
                                          .replica_change = {core::ReplicaChange::Kind::kPods, -1},
                                          .replicas = replicas,
                                          .desired_replicas = replicas - 1,
                                          .probabilities = {},
                                          .model_version = "down"};
  }
};

double errors(prometheus::Registry& registry, const std::string& cause) {
  double total = 0;
  for (const auto& family : registry.Collect())
    if (family.name == "maestro_controller_errors_total")
      for (const auto& metric : family.metric)
        for (const auto& label : metric.label)
          if (label.name == "cause" && label.value == cause) total += metric.counter.value;
  return total;
}

TEST(ControllerPrometheusFaults, HoldsWhileTheSuggestionServerHasNoTrustworthyDataAndRecoversAfter) {
  local::FakeKubeApi api("token");
  api.put_deployment(local::fake_deployment("shop", "web", 5));  // 5 ready replicas
  ASSERT_TRUE(api.start().has_value());
  net::HttpClientOptions kube_options;
  kube_options.base_url = api.url();
  kube_options.retry.max_attempts = 1;
  kube_options.bearer_token = []() -> Result<std::string> { return std::string("token"); };
  kube::KubeClient suggestion_kube(kube_options);
  suggestion_server::KubeDeploymentSource deployments(suggestion_kube);

  testing::FakePrometheus prometheus_server;
  prometheus_server.set({.cpu_usage = 50, .memory_usage = 1e8, .replicas = 0, .latency = 20, .rps = 10});
  ASSERT_TRUE(prometheus_server.start().has_value());
  net::HttpClientOptions prometheus_options;
  prometheus_options.base_url = prometheus_server.url();
  prometheus_options.retry.max_attempts = 1;
  net::HttpClient prometheus_http(prometheus_options);
  prom::PrometheusClient prometheus(prometheus_http);
  prom::StateBuilder state_builder(prometheus);
  ScaleDownModel model;
  base::ManualClock clock;
  suggestion_server::SuggestionServer suggestions(deployments, state_builder, model, clock);
  auto suggestion_port = suggestions.listen("127.0.0.1:0");
  ASSERT_TRUE(suggestion_port.has_value());
  suggestions.start();

  auto config = controller::parse_controller_config(fmt::format(R"(
suggestion_server: http://127.0.0.1:{}
suggestion_timeout_ms: 2000
listen: 127.0.0.1:0
workers: 1
kubernetes: {{server: "{}", token: token}}
defaults: {{min_replicas: 2, max_replicas: 6}}
deployments: [{{namespace: shop, name: web}}]
)",
                                                                *suggestion_port, api.url()));
  ASSERT_TRUE(config.has_value()) << config.error().message;
  auto controller_kube_options = controller::kubernetes_http_options(config->kubernetes, clock);
  ASSERT_TRUE(controller_kube_options.has_value());
  kube::KubeClient controller_kube(*controller_kube_options);
  net::HttpClientOptions suggestion_options;
  suggestion_options.base_url = config->suggestion_server;
  suggestion_options.total_timeout = config->suggestion_timeout;
  suggestion_options.retry.max_attempts = 1;
  controller::SuggestionClient suggestion_client(suggestion_options);
  prometheus::Registry registry;
  controller::Controller controller(*config, controller_kube, suggestion_client, clock, registry);
  const auto interval = [&] {
    clock.advance(config->defaults.interval);
    controller.run_due();
  };
  const auto replicas = [&] { return api.replicas("shop", "web").value_or(-1); };

  struct Fault {
    std::string name;
    std::function<void()> start, clear;
  };
  const std::vector<Fault> faults = {
      {"partial data: 2 of 5 pods report", [&] { prometheus_server.set_pods_reporting(2); },
       [&] { prometheus_server.set_pods_reporting(1000); }},
      {"Prometheus refuses the credentials", [&] { prometheus_server.require_authorization("Basic other"); },
       [&] { prometheus_server.require_authorization(""); }},
      {"the model fails", [&] { model.up = false; }, [&] { model.up = true; }},
  };
  int expected = 5;
  double held = 0;
  for (const auto& fault : faults) {
    fault.start();
    for (int i = 0; i < 3; ++i) interval();
    EXPECT_EQ(replicas(), expected) << fault.name << ": scaled on a fault";
    held += 3;
    EXPECT_EQ(errors(registry, "suggestion_unavailable"), held) << fault.name;
    fault.clear();
    interval();  // the first interval after it clears acts
    --expected;
    EXPECT_EQ(replicas(), expected) << fault.name << ": did not recover";
  }
  EXPECT_EQ(expected, 2);
  suggestions.stop();
}

}  // namespace
}  // namespace maestro
