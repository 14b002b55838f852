// The local cluster's real Prometheus (Debian's /usr/bin/prometheus) finds pods through file-based service
// discovery: a pod is scraped within two scrape intervals of becoming Ready — with the namespace, pod and
// container labels the default PromQL selects on, for its own metrics and for its cgroup's — and is
// forgotten once it has stopped.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kube/client.hpp"
#include "local/local_cluster.hpp"
#include "net/http_client.hpp"
#include "support/eventually.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

constexpr auto kScrapeInterval = 5s;  // Prometheus applies discovered targets every 5 s whatever the interval

TEST(LocalPrometheusTest, SeesEachPodWithinTwoScrapeIntervalsOfReadyAndForgetsItAfterItStops) {
  if (!std::filesystem::exists("/usr/bin/prometheus")) GTEST_SKIP() << "/usr/bin/prometheus is missing";
  local::LocalConfig config;
  config.state_dir =
      std::filesystem::temp_directory_path() / fmt::format("maestro-prometheus-{}", ::getpid());
  config.api_listen = "127.0.0.1:0";
  config.prometheus_listen = "127.0.0.1:0";
  config.scrape_interval = kScrapeInterval;
  local::LocalDeploymentConfig web;
  web.name = "web";
  web.listen = "127.0.0.1:0";
  web.command = {std::string(MAESTRO_BINARY_DIR) + "/maestro-target-app", "--listen", "127.0.0.1:{port}",
                 "--workers", "2"};
  web.replicas = 0;
  // Prometheus 2.42 sends what discovery finds on at most every 5 s and applies it on a 5 s tick, and a new
  // target's first scrape waits for its offset within the interval: up to 15 s from a pod's start. A pod is
  // discovered when it starts, as Kubernetes' pod discovery lists pods before they are ready; a start-up of
  // 5 s (this app is up in milliseconds; a real one takes that long) leaves two intervals for the rest.
  web.startup_delay = 5s;
  web.readiness_period = 100ms;
  config.deployments = {web};
  local::LocalCluster cluster(config);
  auto started = cluster.start();
  ASSERT_TRUE(started.has_value()) << started.error().message;

  net::HttpClientOptions options;
  options.base_url = cluster.prometheus_url();
  options.retry.max_attempts = 1;
  net::HttpClient prometheus(options);
  const auto series = [&](const std::string& promql) -> std::size_t {
    const auto answer = prometheus.get("/api/v1/query?query=" + net::url_encode(promql));
    if (!answer || answer->status != 200) return 0;
    return nlohmann::json::parse(answer->body, nullptr, false)["data"]["result"].size();
  };

  // A pod, measured from the moment it is Ready.
  net::HttpClientOptions api_options;
  api_options.base_url = cluster.api_url();
  kube::KubeClient kube(api_options);
  auto scale = kube.get_scale("default", "web");
  ASSERT_TRUE(scale.has_value());
  ASSERT_TRUE(kube.patch_scale("default", "web", 1, scale->resource_version).has_value());
  ASSERT_TRUE(eventually(
      [&] { return !cluster.pods().empty() && cluster.pods()[0].phase == local::PodPhase::kReady; }, 20s,
      10ms));
  const std::string pod = cluster.pods()[0].name;
  const auto ready_at = std::chrono::steady_clock::now();
  const std::string pod_up =
      fmt::format(R"(up{{job="kubernetes-pods",namespace="default",pod="{}",container="web"}} == 1)", pod);
  const bool seen = eventually([&] { return series(pod_up) == 1; }, 2 * kScrapeInterval, 100ms);
  const double seen_after =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - ready_at).count();
  std::cout << "Prometheus scraped the pod " << seen_after << " s after it was Ready (scrape interval "
            << kScrapeInterval.count() << " s)\n";
  EXPECT_TRUE(seen) << "not scraped within two scrape intervals of Ready";
  EXPECT_TRUE(eventually(
      [&] {
        return series(fmt::format(
                   R"(container_cpu_usage_seconds_total{{namespace="default",pod="{}",container="web"}})",
                   pod)) == 1;
      },
      2 * kScrapeInterval, 100ms));

  scale = kube.get_scale("default", "web");
  ASSERT_TRUE(kube.patch_scale("default", "web", 0, scale->resource_version).has_value());
  ASSERT_TRUE(eventually([&] { return cluster.pods().empty(); }, 20s));
  const auto stopped_at = std::chrono::steady_clock::now();
  const bool forgotten = eventually([&] { return series(fmt::format(R"(up{{pod="{}"}})", pod)) == 0; },
                                    4 * kScrapeInterval, 100ms);
  std::cout << "Prometheus forgot the stopped pod "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped_at).count()
            << " s after it stopped\n";
  EXPECT_TRUE(forgotten);
  cluster.stop();
  std::filesystem::remove_all(config.state_dir);
}

}  // namespace
}  // namespace maestro
