// The local cluster: everything but the Kubernetes API server is real. It serves the API (FakeKubeApi)
// with one Deployment per configured deployment, and acts as its deployment controller and kubelet: pods
// are processes (pod_process) in their own cgroups (pod_cgroup), started and stopped to follow
// spec.replicas, Ready only after their start-up delay and a passing HTTP readiness probe, reported in the
// Deployment's status; each deployment's Service is a load balancer (load_balancer). It exports the pods'
// cgroup usage as cAdvisor does (/metrics/cadvisor), runs a real Prometheus that finds the pods through
// file-based service discovery, and writes a kubeconfig for kubectl and every maestro command.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "local/chaos.hpp"
#include "local/fake_kube_api.hpp"
#include "local/local_config.hpp"

namespace maestro::local {

enum class PodPhase { kStarting, kReady, kUnready, kTerminating };

struct PodInfo {
  std::string namespace_;
  std::string deployment;
  std::string name;
  std::uint16_t port = 0;
  int pid = 0;
  PodPhase phase = PodPhase::kStarting;
};

class LocalCluster {
 public:
  explicit LocalCluster(LocalConfig config);
  ~LocalCluster();  // stop()
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  // Starts the API, the services, the exporter, Prometheus and the pods' controller; writes the kubeconfig.
  Result<void> start();
  // Stops every pod gracefully (in parallel, each within its grace period), then Prometheus and the API.
  void stop();

  FakeKubeApi& api();
  std::string api_url() const;
  std::string prometheus_url() const;  // "" without Prometheus
  std::string metrics_url() const;     // the cgroup exporter's /metrics/cadvisor
  std::string chaos_url() const;       // the chaos endpoint (`maestro local chaos`), also in STATE/chaos.url
  // The chaos engine: Chaos Mesh specs applied to the pods (chaos.hpp). Valid after start().
  ChaosEngine& chaos();
  std::filesystem::path kubeconfig() const;
  // The Service's port of a deployment.
  std::optional<std::uint16_t> service_port(const std::string& ns, const std::string& name) const;
  std::vector<PodInfo> pods() const;
  // Whether pods run with cgroup limits (false: measured from /proc, without limits).
  bool cgroups() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string_view pod_phase_name(PodPhase phase);

}  // namespace maestro::local
