// Test support: MAESTRO's three services as built — `maestro serve model` on a policy file, `maestro serve
// suggest` and `maestro controller` — run against a local cluster (local/local_cluster.hpp: its kubeconfig
// and its Prometheus), the controller managing every deployment annotated maestro.io/autoscale=true (each
// one's maestro.io/policy annotation choosing the learned path or the HPA). Their logs go to files in the
// given directory. Also the cluster and deployment configuration the live tests share: small pods of the
// sample target app that start fast and stop fast. Header-only.
#pragma once

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "base/error.hpp"
#include "local/local_cluster.hpp"
#include "nn/policy_file.hpp"
#include "target_app_process.hpp"

namespace maestro::testing {

inline local::LocalConfig live_cluster_config(const std::filesystem::path& state_dir) {
  local::LocalConfig config;
  config.state_dir = state_dir;
  config.api_listen = "127.0.0.1:0";
  config.prometheus_listen = "127.0.0.1:0";
  config.scrape_interval = std::chrono::seconds(2);
  return config;
}

// The sample target app at 2 ms of CPU a request on 4 workers, in a 0.2-core pod (request = limit),
// managed by the controller; `annotations` are added to maestro.io/autoscale=true.
inline local::LocalDeploymentConfig live_deployment(const std::string& name,
                                                    std::map<std::string, std::string> annotations) {
  local::LocalDeploymentConfig deployment;
  deployment.name = name;
  deployment.listen = "127.0.0.1:0";
  deployment.command = {std::string(MAESTRO_BINARY_DIR) + "/maestro-target-app",
                        "--listen",
                        "127.0.0.1:{port}",
                        "--cpu-ms",
                        "5",
                        "--workers",
                        "4"};
  deployment.startup_delay = std::chrono::milliseconds(500);
  deployment.readiness_period = std::chrono::milliseconds(200);
  deployment.termination_grace = std::chrono::seconds(3);
  deployment.limits.cpu_cores = 0.2;
  deployment.annotations = std::move(annotations);
  deployment.annotations["maestro.io/autoscale"] = "true";
  return deployment;
}

struct LiveStackOptions {
  std::filesystem::path directory;  // policy file, controller configuration, logs
  nn::PolicyFile policy;
  int min_replicas = 1;
  int max_replicas = 3;
  std::chrono::seconds interval{3};  // the controller's, for both policies
  std::chrono::seconds window{10};   // the suggestion server's and the HPA's rate window
  std::chrono::seconds hpa_downscale_stabilization{300};
};

class LiveStack {
 public:
  static Result<std::unique_ptr<LiveStack>> start(local::LocalCluster& cluster,
                                                  const LiveStackOptions& options) {
    auto stack = std::unique_ptr<LiveStack>(new LiveStack());
    const auto& dir = options.directory;
    const std::string maestro = std::string(MAESTRO_BINARY_DIR) + "/maestro";
    if (auto written = nn::write_policy_file(dir / "policy.maestro", options.policy); !written)
      return std::unexpected(written.error());

    auto model = stack->spawn(
        "model",
        {maestro, "serve", "model", "--policy", (dir / "policy.maestro").string(), "--listen", "127.0.0.1:0"},
        dir);
    if (!model) return std::unexpected(model.error());
    auto suggest = stack->spawn(
        "suggest",
        {maestro, "serve", "suggest", "--listen", "127.0.0.1:0", "--prometheus", cluster.prometheus_url(),
         "--model", fmt::format("http://127.0.0.1:{}", *model), "--kubeconfig", cluster.kubeconfig().string(),
         "--window", fmt::format("{}s", options.window.count()), "--timeout-ms", "3000"},
        dir);
    if (!suggest) return std::unexpected(suggest.error());

    std::ofstream(dir / "controller.yaml") << fmt::format(
        R"(suggestion_server: http://127.0.0.1:{}
suggestion_timeout_ms: 5000
listen: 127.0.0.1:0
kubernetes:
  kubeconfig: {}
prometheus:
  url: {}
  rate_window_seconds: {}
defaults:
  interval_seconds: {}
  min_replicas: {}
  max_replicas: {}
  hpa_downscale_stabilization_seconds: {}
discovery:
  namespace: default
)",
        *suggest, cluster.kubeconfig().string(), cluster.prometheus_url(), options.window.count(),
        options.interval.count(), options.min_replicas, options.max_replicas,
        options.hpa_downscale_stabilization.count());
    auto controller =
        ChildProcess::spawn({maestro, "controller", "--config", (dir / "controller.yaml").string()},
                            (dir / "controller.err").string());
    if (!controller) return std::unexpected(controller.error());
    stack->children_.push_back({"controller", std::move(*controller)});
    stack->drain(dir);
    return stack;
  }

  ~LiveStack() { stop(); }

  void stop() {
    draining_ = false;
    if (drainer_.joinable()) drainer_.join();
    for (auto it = children_.rbegin(); it != children_.rend(); ++it) it->second.stop();
    children_.clear();
  }

 private:
  LiveStack() = default;

  // Starts a service that prints "listening on PORT"; its port.
  Result<std::uint16_t> spawn(const std::string& name, const std::vector<std::string>& argv,
                              const std::filesystem::path& dir) {
    auto child = ChildProcess::spawn(argv, (dir / (name + ".err")).string());
    if (!child) return std::unexpected(child.error());
    const auto port = read_listening_port(*child, std::chrono::seconds(20));
    if (!port)
      return fail("{} did not say which port it listens on (see {})", name, (dir / (name + ".err")).string());
    children_.push_back({name, std::move(*child)});
    return *port;
  }

  // The services log a line per decision to stdout: copied to NAME.log so that no pipe fills up.
  void drain(const std::filesystem::path& dir) {
    drainer_ = std::thread([this, dir] {
      std::map<std::string, std::ofstream> logs;
      for (auto& [name, child] : children_) logs[name].open(dir / (name + ".log"));
      while (draining_)
        for (auto& [name, child] : children_)
          if (auto line = child.read_line(std::chrono::milliseconds(50)))
            logs[name] << *line << "\n" << std::flush;
    });
  }

  std::vector<std::pair<std::string, ChildProcess>> children_;
  std::atomic<bool> draining_{true};
  std::thread drainer_;
};

}  // namespace maestro::testing
