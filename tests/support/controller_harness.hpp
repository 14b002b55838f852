// Test support: the controller against the Kubernetes API test double and a stand-in suggestion server, over
// HTTP on loopback, with time driven by a ManualClock, and the value of one of its metrics. Header-only, for
// the controller's integration and fault tests.
#pragma once

#include <prometheus/registry.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "base/clock.hpp"
#include "fake_suggestion_server.hpp"
#include "kube/client.hpp"
#include "local/fake_kube_api.hpp"
#include "services/controller/config.hpp"
#include "services/controller/controller.hpp"
#include "services/controller/suggestion_client.hpp"

namespace maestro::testing {

// The counter or gauge of `name` whose labels include `labels`, summed; 0 if none.
inline double metric_value(prometheus::Registry& registry, const std::string& name,
                           const std::map<std::string, std::string>& labels) {
  double total = 0;
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      bool matches = true;
      for (const auto& [key, value] : labels) {
        const auto it =
            std::ranges::find_if(metric.label, [&](const auto& pair) { return pair.name == key; });
        matches = matches && it != metric.label.end() && it->value == value;
      }
      if (matches) total += metric.counter.value + metric.gauge.value;
    }
  }
  return total;
}

// Every line logged through spdlog's default logger at info and above while this lives (whatever level
// another test left it at). Create it while nothing logs (before a reconcile); read it between reconciles.
class CapturedLog {
 public:
  CapturedLog()
      : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(text_)),
        level_(spdlog::default_logger()->level()) {
    spdlog::default_logger()->sinks().push_back(sink_);
    spdlog::default_logger()->set_level(std::min(level_, spdlog::level::info));
  }
  ~CapturedLog() {
    spdlog::default_logger()->set_level(level_);
    std::erase(spdlog::default_logger()->sinks(), sink_);
  }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  std::string text() const { return text_.str(); }

 private:
  std::ostringstream text_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  spdlog::level::level_enum level_;
};

// The controller against the Kubernetes API test double (deployment shop/web) and the stand-in suggestion
// server, over HTTP on loopback, its time a ManualClock that a test advances an interval at a time.
class ControllerHarness {
 public:
  // `settings_yaml`: the configuration's defaults; `discovery`: manage annotated deployments rather than the
  // listed shop/web.
  explicit ControllerHarness(const std::string& settings_yaml = "min_replicas: 2\n  max_replicas: 6",
                             int initial_replicas = 3, bool discovery = false)
      : ControllerHarness(Managing{fmt::format("defaults:\n  {}\n{}", settings_yaml,
                                               discovery ? "discovery: {refresh_seconds: 60}"
                                                         : "deployments: [{namespace: shop, name: web}]")},
                          local::fake_deployment("shop", "web", initial_replicas)) {}

  // What the controller manages and how: the configuration after its `kubernetes` section.
  struct Managing {
    std::string yaml;
  };
  ControllerHarness(const Managing& managing, const local::FakeDeployment& web) {
    api.put_deployment(web);
    if (!api.start()) throw std::runtime_error("fake kube api did not start");
    if (!suggestions.start()) throw std::runtime_error("fake suggestion server did not start");
    const std::string yaml = fmt::format(
        R"(
suggestion_server: {}
suggestion_timeout_ms: 300
listen: 127.0.0.1:0
workers: 2
kubernetes:
  server: {}
  token: test-token
  timeout_ms: 300
{}
)",
        suggestions.url(), api.url(), managing.yaml);
    auto parsed = controller::parse_controller_config(yaml);
    if (!parsed) throw std::runtime_error(parsed.error().message);
    config = *parsed;
    auto kube_options = controller::kubernetes_http_options(config.kubernetes, clock);
    if (!kube_options) throw std::runtime_error(kube_options.error().message);
    kube_options->retry.max_attempts = 1;
    kube = std::make_unique<kube::KubeClient>(*kube_options);
    net::HttpClientOptions suggestion_options;
    suggestion_options.base_url = config.suggestion_server;
    suggestion_options.total_timeout = config.suggestion_timeout;
    suggestion_options.retry.max_attempts = 1;
    suggestion_client = std::make_unique<controller::SuggestionClient>(suggestion_options);
    controller = std::make_unique<controller::Controller>(config, *kube, *suggestion_client, clock, registry);
  }

  // One interval: advance the clock and run what is due.
  void interval() {
    clock.advance(config.deployments.empty() ? config.defaults.interval
                                             : config.deployments[0].settings.interval);
    controller->run_due();
  }
  int replicas() { return api.replicas("shop", "web").value_or(-1); }
  double errors(const std::string& cause) {
    return metric_value(registry, "maestro_controller_errors_total", {{"cause", cause}});
  }

  local::FakeKubeApi api{"test-token"};
  testing::FakeSuggestionServer suggestions{api};
  base::ManualClock clock;
  prometheus::Registry registry;
  controller::ControllerConfig config;
  std::unique_ptr<kube::KubeClient> kube;
  std::unique_ptr<controller::SuggestionClient> suggestion_client;
  std::unique_ptr<controller::Controller> controller;
};

}  // namespace maestro::testing
