// What `maestro local up --config FILE` runs: the API server's address, Prometheus, the cgroup exporter, and
// each deployment's pods (command, port, start-up delay, readiness probe, grace period, CPU and memory
// limits). Every field has a default that fits a 2-core machine with room for the load generator and
// Prometheus: one deployment of the sample target app, pods of half a core and 256 MiB.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "local/pod_cgroup.hpp"

namespace maestro::local {

struct LocalDeploymentConfig {
  std::string namespace_ = "default";
  std::string name = "target-app";
  int replicas = 1;
  std::string listen = "127.0.0.1:8080";  // the Service: the load balancer's address
  // The container's command; "{port}" in an argument becomes the pod's own loopback port. Empty: the sample
  // target app beside the maestro binary, 5 ms of CPU per request on 4 workers.
  std::vector<std::string> command;
  std::chrono::milliseconds startup_delay{1000};  // no probe before this (initialDelaySeconds)
  std::string readiness_path = "/readyz";         // HTTP GET on the pod's port; 2xx/3xx is ready
  std::chrono::milliseconds readiness_period{500};
  int readiness_failures = 3;                           // failures in a row that make a ready pod unready
  std::chrono::milliseconds termination_grace{10'000};  // SIGTERM, then SIGKILL after this
  PodLimits limits;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

// Chaos the cluster runs from its start: a file of Chaos Mesh specs (chaos_spec.hpp), applied as
// `maestro local chaos apply` would, or with per_hour > 0 each of its experiments at random, that many an
// hour on average (seeded by the config's seed).
struct LocalChaosConfig {
  std::filesystem::path file;  // relative paths: from the config file's folder
  double per_hour = 0;
};

struct LocalConfig {
  std::filesystem::path state_dir = "/tmp/maestro-local";  // kubeconfig, pod logs, Prometheus, pid file
  std::string api_listen = "127.0.0.1:6443";
  std::string metrics_listen = "127.0.0.1:0";  // the cgroup exporter (the kubelet's /metrics/cadvisor)
  std::string prometheus_binary = "/usr/bin/prometheus";  // "": no Prometheus
  std::string prometheus_listen = "127.0.0.1:9090";
  std::chrono::seconds scrape_interval{5};
  bool use_cgroups = true;  // false: never try cgroups (measure from /proc, no limits)
  std::uint64_t seed = 1;   // the load balancer's and chaos' choices
  std::vector<LocalDeploymentConfig> deployments{LocalDeploymentConfig{}};
  std::vector<LocalChaosConfig> chaos;
};

// Reads a YAML file; unknown keys are errors (a typo must not silently fall back to a default).
Result<LocalConfig> load_local_config(const std::filesystem::path& path);
Result<LocalConfig> parse_local_config(const std::string& yaml_text);

}  // namespace maestro::local
