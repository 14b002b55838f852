// Chaos on the local cluster (issue 9, item 3), applied as Chaos Mesh specs through the cluster's chaos
// endpoint: a pod kill is replaced by a new process, Ready after its start-up, while the Deployment's
// readyReplicas dips and recovers; a CPU stress runs stress-ng inside that pod's cgroup, raising its p95 and
// its throttled periods but not another pod's CPU, and ends with its duration (no stress-ng left); a
// Schedule fires again and again; the project's own specs (deploy/chaos/) are accepted as they are.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kube/client.hpp"
#include "local/chaos_spec.hpp"
#include "local/load_generator.hpp"
#include "local/local_cluster.hpp"
#include "net/http_client.hpp"
#include "support/eventually.hpp"
#include "support/local_cluster_fixture.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

std::string read_text(const std::filesystem::path& path) {
  std::ifstream file(path);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

std::vector<local::PodInfo> pods_of(const local::LocalCluster& cluster, const std::string& deployment) {
  std::vector<local::PodInfo> pods;
  for (const auto& pod : cluster.pods())
    if (pod.deployment == deployment) pods.push_back(pod);
  return pods;
}

int ready_of(const local::LocalCluster& cluster, const std::string& deployment) {
  int ready = 0;
  for (const auto& pod : pods_of(cluster, deployment)) ready += pod.phase == local::PodPhase::kReady;
  return ready;
}

// How many processes of stress-ng (its parent, and its workers named stress-ng-cpu) run in the cpu cgroup
// of `pid`.
int stress_processes_beside(int pid) {
  std::ifstream lines(fmt::format("/proc/{}/cgroup", pid));
  std::string cgroup;
  for (std::string line; std::getline(lines, line);)
    if (const auto at = line.find(":cpu,cpuacct:"); at != std::string::npos)
      cgroup = line.substr(at + 13);
    else if (const auto cpu = line.find(":cpu:"); cpu != std::string::npos)
      cgroup = line.substr(cpu + 5);
  int stress = 0;
  std::ifstream procs("/sys/fs/cgroup/cpu" + cgroup + "/cgroup.procs");
  for (int member = 0; procs >> member;)
    stress += read_text(fmt::format("/proc/{}/comm", member)).starts_with("stress-ng");
  return stress;
}

// A pod's CPU seconds and throttled periods, as the cluster exports them for Prometheus.
struct PodCpu {
  double seconds = 0;
  double throttled_periods = 0;
  std::chrono::steady_clock::time_point read_at;
};

PodCpu cadvisor(const local::LocalCluster& cluster, const std::string& pod) {
  net::HttpClientOptions options;
  options.base_url = cluster.metrics_url().substr(0, cluster.metrics_url().find("/metrics"));
  const auto answer = net::HttpClient(options).get("/metrics/cadvisor");
  PodCpu cpu{.read_at = std::chrono::steady_clock::now()};
  if (!answer) return cpu;
  std::istringstream lines(answer->body);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(fmt::format("pod=\"{}\"", pod)) == std::string::npos) continue;
    const double value = std::stod(line.substr(line.rfind(' ') + 1));
    if (line.starts_with("container_cpu_usage_seconds_total")) cpu.seconds = value;
    if (line.starts_with("container_cpu_cfs_throttled_periods_total")) cpu.throttled_periods = value;
  }
  return cpu;
}

// Paced load straight at one pod (not through the Service), its client-side p95 in ms.
double pod_p95(std::uint16_t port) {
  local::LoadOptions options;
  options.target = fmt::format("http://127.0.0.1:{}", port);
  options.concurrency = 8;
  const auto stages = local::parse_stages("2s:20");
  const auto plan = local::plan_from_stages(*stages, 20);
  const std::atomic<bool> stop{false};
  const auto report = local::run_load(plan, options, 7, stop);
  EXPECT_GT(report.ok, 25u);
  return report.p95_ms;
}

nlohmann::json post_chaos(const local::LocalCluster& cluster, const std::string& yaml) {
  const auto url = cluster.chaos_url();
  net::HttpClientOptions options;
  options.base_url = url.substr(0, url.find("/chaos"));
  const auto answer = net::HttpClient(options).post("/chaos", yaml, "application/yaml");
  EXPECT_TRUE(answer.has_value());
  if (!answer) return {};
  EXPECT_EQ(answer->status, 200) << answer->body;
  return nlohmann::json::parse(answer->body);
}

// Clusters without Prometheus: chaos needs none.
class LocalChaosTest : public testing::LocalClusterFixture {
 protected:
  local::LocalCluster& start(std::vector<local::LocalDeploymentConfig> deployments) {
    local::LocalConfig config;
    config.prometheus_binary = "";
    config.deployments = std::move(deployments);
    return LocalClusterFixture::start(std::move(config));
  }
};

TEST_F(LocalChaosTest, AKilledPodIsReplacedByANewProcessAndReadyReplicasDipAndRecover) {
  auto& cluster = start({testing::target_app_deployment("web", 2)});
  ASSERT_TRUE(eventually([&] { return ready_of(cluster, "web") == 2; }, 20s));
  std::set<int> before;
  for (const auto& pod : pods_of(cluster, "web")) before.insert(pod.pid);

  net::HttpClientOptions options;
  options.base_url = cluster.api_url();
  kube::KubeClient kube(options);
  std::atomic<bool> watching{true};
  std::atomic<int> lowest{2};
  std::thread watcher([&] {
    while (watching) {
      if (const auto web = kube.get_deployment("default", "web"); web)
        lowest = std::min(lowest.load(), web->ready_replicas);
      std::this_thread::sleep_for(10ms);  // sampling the status, not waiting for a condition
    }
  });
  const auto applied = post_chaos(cluster, R"(
apiVersion: chaos-mesh.org/v1alpha1
kind: PodChaos
metadata: {name: kill-one-web, namespace: default}
spec:
  action: pod-kill
  mode: one
  gracePeriod: 0
  selector:
    namespaces: [default]
    labelSelectors: {app.kubernetes.io/name: web}
)");
  EXPECT_EQ(applied["applied"][0], "PodChaos default/kill-one-web");

  int victim = 0;
  ASSERT_TRUE(eventually(
      [&] {
        for (int pid : before)
          if (!testing::process_running(pid)) victim = pid;
        return victim != 0;
      },
      10s));
  // Replaced by a new process that becomes Ready only after its start-up delay and probe.
  ASSERT_TRUE(eventually(
      [&] {
        const auto pods = pods_of(cluster, "web");
        return ready_of(cluster, "web") == 2 && std::any_of(pods.begin(), pods.end(), [&](const auto& pod) {
                 return !before.contains(pod.pid);
               });
      },
      20s));
  ASSERT_TRUE(eventually([&] { return kube.get_deployment("default", "web")->ready_replicas == 2; }, 10s));
  watching = false;
  watcher.join();
  EXPECT_EQ(lowest.load(), 1) << "readyReplicas should dip to 1 while the replacement starts";
  int survivors = 0;
  for (int pid : before) survivors += testing::process_running(pid);
  EXPECT_EQ(survivors, 1);

  // The kill is an Event on the deployment, from chaos-mesh.
  const auto events = net::HttpClient(options).get("/api/v1/namespaces/default/events");
  ASSERT_TRUE(events.has_value());
  EXPECT_NE(events->body.find("\"PodChaos\""), std::string::npos) << events->body;
}

TEST_F(LocalChaosTest, CpuStressRaisesThatPodsP95AndThrottlingNotAnotherPodsCpuAndEndsWithItsDuration) {
  // A small pod (a fifth of a core), so that the stress passes its quota even when this machine's two cores
  // are busy with other work: throttling shows only where the pod could run faster than its limit.
  auto web_config = testing::target_app_deployment("web", 1);
  web_config.limits.cpu_cores = 0.2;
  auto& cluster = start({web_config, testing::target_app_deployment("other", 1)});
  if (!cluster.cgroups()) GTEST_SKIP() << "cgroups are not writable here: stress could not be confined";
  ASSERT_TRUE(
      eventually([&] { return ready_of(cluster, "web") == 1 && ready_of(cluster, "other") == 1; }, 20s));
  const auto web = pods_of(cluster, "web").front();
  const auto other = pods_of(cluster, "other").front();

  const double calm_p95 = pod_p95(web.port);
  const PodCpu web_before = cadvisor(cluster, web.name);
  const PodCpu other_before = cadvisor(cluster, other.name);
  post_chaos(cluster, R"(
apiVersion: chaos-mesh.org/v1alpha1
kind: StressChaos
metadata: {name: burn-web, namespace: default}
spec:
  mode: all
  duration: 4s
  selector:
    labelSelectors: {app.kubernetes.io/name: web}
  containerNames: [app]
  stressors:
    cpu: {workers: 2, load: 100}
)");
  ASSERT_TRUE(
      eventually([&] { return stress_processes_beside(web.pid) >= 2; }, 5s));  // stress-ng, its worker
  const double stressed_p95 = pod_p95(web.port);
  const PodCpu web_during = cadvisor(cluster, web.name);
  const PodCpu other_during = cadvisor(cluster, other.name);
  // Over the whole span between the two readings, not just the 2 s of load: the stress's start and the
  // scrapes add to it, and a quota holds over any span, so this average may not pass it either.
  const double web_cores = (web_during.seconds - web_before.seconds) /
                           std::chrono::duration<double>(web_during.read_at - web_before.read_at).count();
  std::cout << fmt::format(
      "measured: web p95 {:.1f} ms calm, {:.1f} ms stressed; web throttled periods +{:.0f}, {:.3f} cores; "
      "other pod {:.4f} CPU s\n",
      calm_p95, stressed_p95, web_during.throttled_periods - web_before.throttled_periods, web_cores,
      other_during.seconds - other_before.seconds);
  EXPECT_GT(stressed_p95, 2 * calm_p95 + 5) << "calm p95 " << calm_p95 << " ms";
  EXPECT_GT(web_during.throttled_periods, web_before.throttled_periods);
  // The stress is the web pod's usage (its cgroup), held to its fifth of a core; the other pod only idles.
  EXPECT_GT(web_cores, 0.1);
  EXPECT_LT(web_cores, 0.25);
  EXPECT_LT(other_during.seconds - other_before.seconds, 0.1);
  EXPECT_EQ(stress_processes_beside(other.pid), 0);

  // After its duration: no stress-ng left in the pod, and the injection is over.
  ASSERT_TRUE(eventually([&] { return stress_processes_beside(web.pid) == 0; }, 10s));
  const auto status = cluster.chaos().status();
  ASSERT_EQ(status.injections.size(), 1u);
  EXPECT_FALSE(status.injections[0].active);
  EXPECT_FALSE(testing::process_running(status.injections[0].stressor_pid));
  EXPECT_EQ(status.injections[0].pod, web.name);
}

TEST_F(LocalChaosTest, AScheduleFiresAgainUntilItIsDeleted) {
  auto& cluster = start({testing::target_app_deployment("web", 1)});
  ASSERT_TRUE(eventually([&] { return ready_of(cluster, "web") == 1; }, 20s));
  post_chaos(cluster, R"(
apiVersion: chaos-mesh.org/v1alpha1
kind: Schedule
metadata: {name: kill-web-often}
spec:
  schedule: "@every 1s"
  type: PodChaos
  podChaos:
    action: pod-kill
    mode: one
    selector: {labelSelectors: {app: web}}
)");
  ASSERT_TRUE(eventually([&] { return cluster.chaos().status().injections.size() >= 2; }, 10s));
  EXPECT_TRUE(cluster.chaos().remove("default", "kill-web-often"));
  const auto fired = cluster.chaos().status().injections.size();
  EXPECT_TRUE(
      testing::consistently([&] { return cluster.chaos().status().injections.size() <= fired + 1; }, 2s));
  EXPECT_TRUE(eventually([&] { return ready_of(cluster, "web") == 1; }, 20s));
}

TEST_F(LocalChaosTest, ChaosListedInTheConfigRunsAtRandomAtItsRate) {
  const auto spec =
      std::filesystem::temp_directory_path() / fmt::format("maestro-random-kill-{}.yaml", ::getpid());
  std::ofstream(spec)
      << "apiVersion: chaos-mesh.org/v1alpha1\nkind: PodChaos\nmetadata: {name: random-kill}\n"
         "spec: {action: pod-kill, mode: one, selector: {labelSelectors: {app: web}}}\n";
  local::LocalConfig config;
  config.prometheus_binary = "";
  config.deployments = {testing::target_app_deployment("web", 2)};
  config.chaos = {{spec, 3600.0 * 4}};  // four a second on average
  auto& cluster = LocalClusterFixture::start(std::move(config));
  std::filesystem::remove(spec);
  EXPECT_TRUE(eventually([&] { return cluster.chaos().status().injections.size() >= 3; }, 10s));
  const auto status = cluster.chaos().status();
  ASSERT_FALSE(status.schedules.empty());
  EXPECT_NE(status.schedules[0].find("random PodChaos default/random-kill"), std::string::npos)
      << status.schedules[0];
}

TEST(LocalChaosSpecs, TheProjectsChaosMeshSpecsRunHereAsTheyAre) {
  for (const char* file : {"pod-kill.yaml", "cpu-stress.yaml", "schedules.yaml"}) {
    const auto parsed =
        local::parse_chaos(read_text(std::filesystem::path(MAESTRO_SOURCE_DIR) / "deploy/chaos" / file));
    EXPECT_TRUE(parsed.has_value()) << file << ": " << parsed.error().message;
  }
}

}  // namespace
}  // namespace maestro
