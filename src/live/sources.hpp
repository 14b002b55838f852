// live::Env's sources wired to the real clients: the deployment through kube::KubeClient (the scale
// subresource, as the controller scales), and chaos through the local cluster's chaos endpoint (the URL
// `maestro local up` writes to STATE/chaos.url).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "kube/client.hpp"
#include "live/env.hpp"
#include "net/http_client.hpp"

namespace maestro::live {

class KubeDeploymentApi final : public DeploymentApi {
 public:
  // `client` must outlive this.
  explicit KubeDeploymentApi(kube::KubeClient& client) : client_(client) {}
  Result<DeploymentState> get(const std::string& namespace_, const std::string& name) override;
  // GET the scale, merge-patch spec.replicas with the resourceVersion read; on 409 once more from a new read.
  Result<int> scale(const std::string& namespace_, const std::string& name, int replicas) override;

 private:
  kube::KubeClient& client_;
};

class LocalChaosEndpoint final : public ChaosSource {
 public:
  // `url` is the endpoint, "http://127.0.0.1:PORT/chaos".
  explicit LocalChaosEndpoint(const std::string& url);
  Result<void> apply(const std::string& yaml) override;
  Result<std::vector<Fault>> faults(const std::string& namespace_, const std::string& deployment) override;

 private:
  std::string path_;
  net::HttpClient http_;
};

// Where a live environment's deployment lives.
struct Connection {
  std::filesystem::path kubeconfig;  // empty: the in-cluster service account
  std::string prometheus_url;        // "http://127.0.0.1:9090"
  std::string chaos_url;             // the local cluster's chaos endpoint; empty: no chaos
};

// A live::Env that owns its clients.
Result<std::unique_ptr<rl::Env>> connect(const Connection& connection, const EnvConfig& config);

}  // namespace maestro::live
