#include "live/sources.hpp"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/clock.hpp"
#include "kube/config.hpp"
#include "prom/query_client.hpp"

namespace maestro::live {

namespace {

net::HttpClientOptions endpoint_options(const std::string& url) {
  net::HttpClientOptions options;
  options.base_url = url.substr(0, url.find("/chaos"));
  options.connect_timeout = std::chrono::milliseconds(500);
  options.total_timeout = std::chrono::milliseconds(3000);
  return options;
}

std::chrono::system_clock::time_point time_of(const nlohmann::json& seconds) {
  if (!seconds.is_number()) return std::chrono::system_clock::time_point::max();
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::duration<double>(seconds.get<double>())));
}

}  // namespace

Result<DeploymentState> KubeDeploymentApi::get(const std::string& namespace_, const std::string& name) {
  auto deployment = client_.get_deployment(namespace_, name);
  if (!deployment) return fail("{}", deployment.error().message);
  std::optional<double> cpu_request;
  if (deployment->cpu_request_m && *deployment->cpu_request_m > 0)
    cpu_request = static_cast<double>(*deployment->cpu_request_m) / 1000.0;
  return DeploymentState{deployment->replicas, deployment->ready_replicas, deployment->annotations,
                         cpu_request};
}

Result<int> KubeDeploymentApi::scale(const std::string& namespace_, const std::string& name, int replicas) {
  for (int attempt = 0;; ++attempt) {
    auto scale = client_.get_scale(namespace_, name);
    if (!scale) return fail("{}", scale.error().message);
    auto patched = client_.patch_scale(namespace_, name, replicas, scale->resource_version);
    if (patched) return scale->replicas;
    if (patched.error().kind != kube::KubeErrorKind::kConflict || attempt > 0)
      return fail("{}", patched.error().message);
  }
}

LocalChaosEndpoint::LocalChaosEndpoint(const std::string& url)
    : path_(url.find("/chaos") == std::string::npos ? "/chaos" : url.substr(url.find("/chaos"))),
      http_(endpoint_options(url)) {}

Result<void> LocalChaosEndpoint::apply(const std::string& yaml) {
  auto answer = http_.post(path_, yaml, "application/yaml");
  if (!answer) return fail("chaos endpoint: {}", answer.error().message);
  if (answer->status != 200) return fail("chaos endpoint answered {}: {}", answer->status, answer->body);
  return {};
}

Result<std::vector<Fault>> LocalChaosEndpoint::faults(const std::string& namespace_,
                                                      const std::string& deployment) {
  auto answer = http_.get(path_);
  if (!answer) return fail("chaos endpoint: {}", answer.error().message);
  const auto body = nlohmann::json::parse(answer->body, nullptr, false);
  if (answer->status != 200 || !body.is_object() || !body.contains("injections"))
    return fail("chaos endpoint answered {}: {}", answer->status, answer->body);
  std::vector<Fault> faults;
  for (const auto& injection : body["injections"]) {
    if (injection.value("namespace", "") != namespace_ || injection.value("deployment", "") != deployment)
      continue;
    faults.push_back({injection.value("kind", ""), injection.value("pod", ""), time_of(injection["at"]),
                      time_of(injection["until"])});
  }
  return faults;
}

namespace {

// The env with the clients it reads through, which must outlive it.
class ConnectedEnv final : public rl::Env {
 public:
  ConnectedEnv(const net::HttpClientOptions& kube, const net::HttpClientOptions& prometheus,
               const std::string& chaos_url, const EnvConfig& config)
      : kube_client_(kube),
        deployments_(kube_client_),
        prometheus_http_(prometheus),
        prometheus_(prometheus_http_),
        chaos_(chaos_url.empty() ? nullptr : std::make_unique<LocalChaosEndpoint>(chaos_url)),
        env_(config, deployments_, prometheus_, chaos_.get()) {}

  std::size_t observation_size() const override { return env_.observation_size(); }
  int action_count() const override { return env_.action_count(); }
  void reset(std::uint64_t seed, std::span<double> observation) override { env_.reset(seed, observation); }
  rl::StepResult step(int action, std::span<double> observation) override {
    return env_.step(action, observation);
  }
  std::vector<std::pair<std::string, double>> info() const override { return env_.info(); }

 private:
  kube::KubeClient kube_client_;
  KubeDeploymentApi deployments_;
  net::HttpClient prometheus_http_;
  prom::PrometheusClient prometheus_;
  std::unique_ptr<LocalChaosEndpoint> chaos_;
  live::Env env_;
};

}  // namespace

Result<std::unique_ptr<rl::Env>> connect(const Connection& connection, const EnvConfig& config) {
  auto checked = validate(config);
  if (!checked) return std::unexpected(checked.error());
  auto cluster = connection.kubeconfig.empty() ? kube::in_cluster_config()
                                               : kube::load_kubeconfig(connection.kubeconfig);
  if (!cluster) return std::unexpected(cluster.error());
  static const base::RealClock clock;  // re-reads of a token file
  auto kube = kube::http_options(*cluster, clock);
  if (!kube) return std::unexpected(kube.error());
  if (connection.prometheus_url.empty()) return fail("the live environment needs Prometheus' URL");
  net::HttpClientOptions prometheus;
  prometheus.base_url = connection.prometheus_url;
  prometheus.total_timeout = std::chrono::milliseconds(5000);
  return std::make_unique<ConnectedEnv>(*kube, prometheus, connection.chaos_url, *checked);
}

}  // namespace maestro::live
