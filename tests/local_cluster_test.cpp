// The local cluster with real processes: scaling through the API starts and stops pods, readiness gates
// the Service, the Deployment's status follows the pods, the load balancer spreads connections, a pod past
// its CPU limit is throttled and held to it, and no pod outlives `local up` — stopped or killed.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/clock.hpp"
#include "kube/client.hpp"
#include "kube/config.hpp"
#include "local/load_generator.hpp"
#include "local/local_cluster.hpp"
#include "net/http_client.hpp"
#include "support/eventually.hpp"
#include "support/target_app_process.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;
using testing::consistently;
using testing::eventually;

// Running, not merely a zombie waiting for whoever adopted it to reap it.
bool process_exists(int pid) {
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z';
}

std::filesystem::path test_folder(const std::string& name) {
  const auto folder = std::filesystem::temp_directory_path() / fmt::format("maestro-{}-{}", name, ::getpid());
  std::filesystem::remove_all(folder);
  return folder;
}

local::LocalConfig small_config(const std::string& name) {
  local::LocalConfig config;
  config.state_dir = test_folder(name);
  config.api_listen = "127.0.0.1:0";
  config.prometheus_binary = "";
  local::LocalDeploymentConfig web;
  web.name = "web";
  web.listen = "127.0.0.1:0";
  web.replicas = 1;
  web.command = {std::string(MAESTRO_BINARY_DIR) + "/maestro-target-app",
                 "--listen",
                 "127.0.0.1:{port}",
                 "--cpu-ms",
                 "1",
                 "--workers",
                 "2"};
  web.startup_delay = 200ms;
  web.readiness_period = 100ms;
  web.termination_grace = 5s;
  web.limits = {.cpu_cores = 0.5, .memory_bytes = 128ull << 20};
  config.deployments = {web};
  return config;
}

// Ready pods as the API lists them (kubectl get pods).
int listed_ready_pods(const local::LocalCluster& cluster) {
  net::HttpClientOptions options;
  options.base_url = cluster.api_url();
  const auto answer = net::HttpClient(options).get("/api/v1/namespaces/default/pods");
  if (!answer) return -1;
  const auto list = nlohmann::json::parse(answer->body);
  int ready = 0;
  for (const auto& pod : list["items"]) ready += pod["status"]["containerStatuses"][0]["ready"].get<bool>();
  return ready;
}

int ready_pods(const local::LocalCluster& cluster) {
  int ready = 0;
  for (const auto& pod : cluster.pods()) ready += pod.phase == local::PodPhase::kReady;
  return ready;
}

kube::KubeClient client_of(const local::LocalCluster& cluster) {
  net::HttpClientOptions options;
  options.base_url = cluster.api_url();
  return kube::KubeClient(options);
}

class LocalClusterTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (cluster_) cluster_->stop();
    if (!folder_.empty()) std::filesystem::remove_all(folder_);
  }
  local::LocalCluster& start(local::LocalConfig config) {
    folder_ = config.state_dir;
    cluster_ = std::make_unique<local::LocalCluster>(std::move(config));
    auto started = cluster_->start();
    EXPECT_TRUE(started.has_value()) << started.error().message;
    return *cluster_;
  }

  std::filesystem::path folder_;
  std::unique_ptr<local::LocalCluster> cluster_;
};

TEST_F(LocalClusterTest, ScalingStartsAndStopsRealProcesses) {
  auto& cluster = start(small_config("scale"));
  auto kube = client_of(cluster);
  ASSERT_TRUE(eventually([&] { return ready_pods(cluster) == 1; }, 20s));
  EXPECT_EQ(kube.get_deployment("default", "web")->ready_replicas, 1);

  auto scale = kube.get_scale("default", "web");
  ASSERT_TRUE(scale.has_value()) << scale.error().message;
  ASSERT_TRUE(kube.patch_scale("default", "web", 3, scale->resource_version).has_value());
  ASSERT_TRUE(eventually([&] { return ready_pods(cluster) == 3; }, 20s));
  ASSERT_TRUE(eventually([&] { return kube.get_deployment("default", "web")->ready_replicas == 3; }, 5s));
  std::set<int> pids;
  for (const auto& pod : cluster.pods()) {
    EXPECT_TRUE(process_exists(pod.pid)) << pod.name;
    EXPECT_TRUE(std::regex_match(
        pod.name, std::regex("web-[bcdfghjklmnpqrstvwxz2456789]{10}-[bcdfghjklmnpqrstvwxz2456789]{5}")))
        << pod.name;
    pids.insert(pod.pid);
  }
  EXPECT_EQ(pids.size(), 3u);
  EXPECT_TRUE(eventually([&] { return listed_ready_pods(cluster) == 3; }, 5s))
      << "the API lists the pods it runs";

  scale = kube.get_scale("default", "web");
  ASSERT_TRUE(kube.patch_scale("default", "web", 1, scale->resource_version).has_value());
  ASSERT_TRUE(eventually([&] { return cluster.pods().size() == 1; }, 20s));
  int stopped = 0;
  for (int pid : pids) stopped += !process_exists(pid);
  EXPECT_EQ(stopped, 2);
  EXPECT_TRUE(eventually([&] { return kube.get_deployment("default", "web")->ready_replicas == 1; }, 5s));
}

TEST_F(LocalClusterTest, TheServiceSpreadsConnectionsOverReadyPodsOnly) {
  auto config = small_config("spread");
  config.deployments[0].replicas = 3;
  auto& cluster = start(config);
  ASSERT_TRUE(eventually([&] { return ready_pods(cluster) == 3; }, 20s));
  const auto port = *cluster.service_port("default", "web");
  // A new connection per request, so that each is balanced (kube-proxy balances connections).
  for (int i = 0; i < 60; ++i) {
    net::HttpClientOptions options;
    options.base_url = fmt::format("http://127.0.0.1:{}", port);
    net::HttpClient client(options);
    auto answer = client.get("/work");
    ASSERT_TRUE(answer.has_value()) << answer.error().message;
    ASSERT_EQ(answer->status, 200);
  }
  int pods_served = 0;
  for (const auto& pod : cluster.pods()) {
    net::HttpClientOptions options;
    options.base_url = fmt::format("http://127.0.0.1:{}", pod.port);
    net::HttpClient client(options);
    const auto metrics = client.get("/metrics");
    ASSERT_TRUE(metrics.has_value());
    pods_served += metrics->body.find(R"(handler="/work")") != std::string::npos;
  }
  EXPECT_EQ(pods_served, 3) << "60 connections at random left a pod without any";
}

TEST_F(LocalClusterTest, ScaleDownDrainsPodsWithoutFailingARequest) {
  auto config = small_config("drain");
  config.deployments[0].replicas = 3;
  config.deployments[0].command = {std::string(MAESTRO_BINARY_DIR) + "/maestro-target-app",
                                   "--listen",
                                   "127.0.0.1:{port}",
                                   "--cpu-ms",
                                   "1",
                                   "--wait-ms",
                                   "50",
                                   "--workers",
                                   "8"};
  auto& cluster = start(config);
  ASSERT_TRUE(eventually([&] { return ready_pods(cluster) == 3; }, 20s));

  // 100 requests/s of 50 ms each (about five in flight at any time), a new connection each, for 3 s.
  const std::vector<local::LoadStage> hold = {{3s, 100}};
  local::LoadOptions options;
  options.target = fmt::format("http://127.0.0.1:{}", *cluster.service_port("default", "web"));
  options.progress_every = 300ms;
  std::atomic<bool> running{false};
  options.on_progress = [&](const local::LoadProgress&) { running = true; };
  const std::atomic<bool> stop{false};
  local::LoadReport report;
  std::thread load([&] { report = local::run_load(local::plan_from_stages(hold, 100), options, 3, stop); });
  ASSERT_TRUE(eventually([&] { return running.load(); }, 10s));
  auto kube = client_of(cluster);
  const auto scale = kube.get_scale("default", "web");
  ASSERT_TRUE(scale.has_value());
  ASSERT_TRUE(kube.patch_scale("default", "web", 1, scale->resource_version).has_value());
  load.join();

  EXPECT_TRUE(eventually([&] { return cluster.pods().size() == 1; }, 10s));
  EXPECT_GT(report.sent, 200u);
  EXPECT_EQ(report.ok, report.sent) << report.summary();
}

TEST_F(LocalClusterTest, APodIsNotReadyUntilItsProbePasses) {
  auto config = small_config("readiness");
  config.deployments[0].readiness_path = "/no-such-path";  // answered 404: the probe fails
  auto& cluster = start(config);
  ASSERT_TRUE(eventually([&] { return cluster.pods().size() == 1; }, 5s));
  EXPECT_TRUE(consistently([&] { return ready_pods(cluster) == 0; }, 1500ms));
  auto kube = client_of(cluster);
  EXPECT_EQ(kube.get_deployment("default", "web")->ready_replicas, 0);
  // No endpoint: the Service refuses the connection rather than send it to a pod that is not ready.
  net::HttpClientOptions options;
  options.base_url = fmt::format("http://127.0.0.1:{}", *cluster.service_port("default", "web"));
  options.retry.max_attempts = 1;
  EXPECT_FALSE(net::HttpClient(options).get("/work").has_value());
}

TEST_F(LocalClusterTest, APodDrivenPastItsCpuLimitIsThrottledAndHeldToIt) {
  auto config = small_config("throttle");
  config.deployments[0].limits.cpu_cores = 0.1;
  config.deployments[0].command = {std::string(MAESTRO_BINARY_DIR) + "/maestro-target-app",
                                   "--listen",
                                   "127.0.0.1:{port}",
                                   "--cpu-ms",
                                   "20",
                                   "--workers",
                                   "4"};
  auto& cluster = start(config);
  if (!cluster.cgroups()) GTEST_SKIP() << "cgroups are not writable here: pods run without limits";
  ASSERT_TRUE(eventually([&] { return ready_pods(cluster) == 1; }, 20s));
  const auto pod = cluster.pods().front();

  net::HttpClientOptions metrics_options;
  metrics_options.base_url = cluster.metrics_url().substr(0, cluster.metrics_url().find("/metrics"));
  net::HttpClient metrics(metrics_options);
  const auto sample = [&](const std::string& family) {
    const auto text = metrics.get("/metrics/cadvisor");
    const std::regex line(family + R"(\{[^}]*pod=")" + pod.name + R"("[^}]*\} ([0-9.e+-]+))");
    std::smatch match;
    if (!text || !std::regex_search(text->body, match, line)) return -1.0;
    return std::stod(match[1]);
  };
  const double throttled_before = sample("container_cpu_cfs_throttled_periods_total");
  const double cpu_before = sample("container_cpu_usage_seconds_total");
  ASSERT_GE(throttled_before, 0);

  // Four clients in a closed loop ask for 20 ms of CPU each: two cores' worth against a 0.1-core quota.
  std::atomic<bool> driving{true};
  std::vector<std::thread> clients;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i)
    clients.emplace_back([&] {
      net::HttpClientOptions options;
      options.base_url = fmt::format("http://127.0.0.1:{}", *cluster.service_port("default", "web"));
      options.total_timeout = 30s;
      net::HttpClient client(options);
      while (driving) (void)client.get("/work");
    });
  const bool throttled =
      eventually([&] { return sample("container_cpu_cfs_throttled_periods_total") >= throttled_before + 5; },
                 20s, 100ms);
  // Let the quota bind for a few periods more before measuring the rate it allowed.
  const double cpu_mid = sample("container_cpu_usage_seconds_total");
  const auto mid = std::chrono::steady_clock::now();
  eventually([&] { return std::chrono::steady_clock::now() - mid >= 2s; }, 5s, 100ms);
  const double cpu_after = sample("container_cpu_usage_seconds_total");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - mid).count();
  driving = false;
  for (auto& client : clients) client.join();

  EXPECT_TRUE(throttled) << "throttled periods stayed at " << throttled_before;
  EXPECT_GT(cpu_mid, cpu_before);
  const double cores = (cpu_after - cpu_mid) / seconds;
  std::cout << "pod at a 0.1-core limit used " << cores << " cores under a 2-core demand over " << seconds
            << " s (throttled for " << std::chrono::duration<double>(mid - started).count() << " s before)\n";
  EXPECT_LT(cores, 0.2) << "the CFS quota did not hold the pod to its limit";
}

TEST_F(LocalClusterTest, WritesAKubeconfigMaestroCommandsRead) {
  auto& cluster = start(small_config("kubeconfig"));
  auto config = kube::load_kubeconfig(cluster.kubeconfig());
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->server, cluster.api_url());
  base::RealClock clock;
  auto options = kube::http_options(*config, clock);
  ASSERT_TRUE(options.has_value()) << options.error().message;
  kube::KubeClient kube(*options);
  const auto web = kube.get_deployment("default", "web");
  ASSERT_TRUE(web.has_value()) << web.error().message;
  EXPECT_EQ(web->labels.at("app"), "web");
}

TEST_F(LocalClusterTest, WithoutCgroupsPodsRunUnlimitedAndAreMeasuredFromProc) {
  auto config = small_config("proc");
  config.use_cgroups = false;
  auto& cluster = start(config);
  EXPECT_FALSE(cluster.cgroups());
  ASSERT_TRUE(eventually([&] { return ready_pods(cluster) == 1; }, 20s));
  const auto pod = cluster.pods().front();
  net::HttpClientOptions options;
  options.base_url = cluster.metrics_url().substr(0, cluster.metrics_url().find("/metrics"));
  net::HttpClient metrics(options);
  const auto text = metrics.get("/metrics/cadvisor");
  ASSERT_TRUE(text.has_value());
  const std::regex memory(R"(container_memory_working_set_bytes\{[^}]*pod=")" + pod.name +
                          R"("[^}]*\} ([0-9]+))");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(text->body, match, memory)) << text->body;
  EXPECT_GT(std::stod(match[1]), 1 << 20) << "a running target app holds more than 1 MiB resident";
  EXPECT_NE(
      text->body.find(fmt::format(
          R"(container_cpu_cfs_throttled_periods_total{{namespace="default",pod="{}",container="web"}} 0)",
          pod.name)),
      std::string::npos);
}

// The reasons of the events listed for the deployment, through the API as kubectl reads them.
std::vector<std::string> event_reasons(const local::LocalCluster& cluster) {
  net::HttpClientOptions options;
  options.base_url = cluster.api_url();
  net::HttpClient client(options);
  std::vector<std::string> reasons;
  const auto answer = client.get("/api/v1/namespaces/default/events");
  if (!answer) return reasons;
  const auto list = nlohmann::json::parse(answer->body);
  for (const auto& event : list["items"]) reasons.push_back(event["reason"].get<std::string>());
  return reasons;
}

std::size_t count_of(const std::vector<std::string>& reasons, const std::string& reason) {
  return static_cast<std::size_t>(std::count(reasons.begin(), reasons.end(), reason));
}

TEST_F(LocalClusterTest, APodThatDiesIsReplaced) {
  auto& cluster = start(small_config("replace"));
  ASSERT_TRUE(eventually([&] { return ready_pods(cluster) == 1; }, 20s));
  const auto victim = cluster.pods().front();
  ::kill(victim.pid, SIGKILL);
  ASSERT_TRUE(eventually(
      [&] {
        const auto pods = cluster.pods();
        return pods.size() == 1 && pods[0].name != victim.name && pods[0].phase == local::PodPhase::kReady;
      },
      20s));
  EXPECT_EQ(count_of(event_reasons(cluster), "PodExited"), 1u);
}

TEST_F(LocalClusterTest, ACommandThatKeepsCrashingIsRestartedWithABackOff) {
  auto config = small_config("crashloop");
  config.deployments[0].command = {"false"};
  auto& cluster = start(config);
  // The first start is at once, the next after 1 s, then 2 s: when the second exit is seen, at most one
  // more can have happened (without a back-off, a start every 50 ms would have made dozens).
  std::size_t exits = 0;
  ASSERT_TRUE(
      eventually([&] { return (exits = count_of(event_reasons(cluster), "PodExited")) >= 2; }, 10s, 50ms));
  EXPECT_LE(exits, 3u);
}

// `maestro local up` as its own process: `local down` stops it and its pods gracefully; killed outright,
// it leaves no pod behind either (their death signal).
class LocalUpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = test_folder("up");
    std::filesystem::create_directories(folder_);
    std::ofstream(folder_ / "local.yaml") << fmt::format(
        "state_dir: {0}/state\napi_listen: 127.0.0.1:0\nprometheus_binary: ''\ndeployments:\n"
        "  - name: web\n    replicas: 2\n    listen: 127.0.0.1:0\n    startup_delay_seconds: 0.2\n"
        "    readiness_period_seconds: 0.1\n    command: ['{1}/maestro-target-app', --listen, "
        "'127.0.0.1:{{port}}']\n",
        folder_.string(), MAESTRO_BINARY_DIR);
    auto child = testing::ChildProcess::spawn({std::string(MAESTRO_BINARY_DIR) + "/maestro", "local", "up",
                                               "--config", (folder_ / "local.yaml").string()},
                                              (folder_ / "up.stderr").string());
    ASSERT_TRUE(child.has_value()) << child.error().message;
    up_ = std::move(*child);
    // Read its log (stdout) until both pods are ready, taking their pids from the "pod start" lines.
    const std::regex started(R"(pod start .* pid=([0-9]+))");
    int ready = 0;
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (ready < 2 && std::chrono::steady_clock::now() < until) {
      const auto line = up_.read_line(1s);
      if (!line) continue;
      std::smatch match;
      if (std::regex_search(*line, match, started)) pids_.push_back(std::stoi(match[1]));
      ready += line->find("pod ready") != std::string::npos;
    }
    ASSERT_EQ(ready, 2);
    ASSERT_EQ(pids_.size(), 2u);
  }
  void TearDown() override { std::filesystem::remove_all(folder_); }

  std::filesystem::path folder_;
  testing::ChildProcess up_;
  std::vector<int> pids_;
};

TEST_F(LocalUpTest, DownStopsTheClusterAndItsPods) {
  const int status = std::system(fmt::format("{}/maestro local down --state-dir {}/state > /dev/null",
                                             MAESTRO_BINARY_DIR, folder_.string())
                                     .c_str());
  EXPECT_EQ(status, 0);
  const auto exit = up_.wait(30s);
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0);
  for (int pid : pids_) EXPECT_FALSE(process_exists(pid)) << "pod " << pid << " outlived local down";
  EXPECT_FALSE(std::filesystem::exists(folder_ / "state" / "maestro-local.pid"));
}

TEST_F(LocalUpTest, NoPodOutlivesACrashOfLocalUp) {
  up_.signal(SIGKILL);
  ASSERT_TRUE(up_.wait(10s).has_value());
  EXPECT_TRUE(eventually([&] { return !process_exists(pids_[0]) && !process_exists(pids_[1]); }, 10s))
      << "a pod was orphaned";
}

}  // namespace
}  // namespace maestro
