// The target app as it would run in a cluster watched by MAESTRO: the app, a cAdvisor stand-in serving its
// container metrics, and a real Prometheus scraping both with the namespace and pod labels Kubernetes'
// discovery would add. Shared by every test that reads live metrics.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/error.hpp"
#include "prometheus_container_exporter.hpp"
#include "prometheus_server.hpp"
#include "target_app_process.hpp"

namespace maestro::testing {

struct MonitoredTargetApp {
  std::unique_ptr<TargetApp> app;
  std::unique_ptr<ContainerMetricsExporter> exporter;
  std::unique_ptr<PrometheusServer> prometheus;

  // `app_flags` go to maestro-target-app; its one container "app" runs in pod `pod` of `namespace_name`.
  static Result<MonitoredTargetApp> start(std::vector<std::string> app_flags,
                                          const std::string& namespace_name, const std::string& pod) {
    MonitoredTargetApp monitored;
    auto app = TargetApp::start(std::move(app_flags));
    if (!app) return std::unexpected(app.error());
    monitored.app = std::make_unique<TargetApp>(std::move(*app));
    monitored.exporter =
        std::make_unique<ContainerMetricsExporter>(monitored.app->process.pid(), namespace_name, pod, "app");
    if (auto started = monitored.exporter->start(); !started) return std::unexpected(started.error());
    auto prometheus = PrometheusServer::start({
        ScrapeTarget{.job = "app",
                     .address = fmt::format("127.0.0.1:{}", monitored.app->port),
                     .metrics_path = "/metrics",
                     .labels = {{"namespace", namespace_name}, {"pod", pod}},
                     .honor_labels = false},
        ScrapeTarget{.job = "kubelet-cadvisor",
                     .address = fmt::format("127.0.0.1:{}", monitored.exporter->port()),
                     .metrics_path = ContainerMetricsExporter::kPath,
                     .labels = {},
                     .honor_labels = true},
    });
    if (!prometheus) return std::unexpected(prometheus.error());
    monitored.prometheus = std::move(*prometheus);
    return monitored;
  }
};

}  // namespace maestro::testing
