// live::Env against the local cluster (issue 9, item 5): real pods under real load, a real Prometheus.
// `maestro train --env live` fine-tunes a policy for a dozen steps at a 2 s interval, really scaling pods and
// changing the policy file; with Prometheus killed mid-run a step ends the episode without a fabricated
// observation (the last one measured, and the fault said).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "core/action_set.hpp"
#include "core/features.hpp"
#include "kube/client.hpp"
#include "kube/config.hpp"
#include "live/env.hpp"
#include "live/sources.hpp"
#include "local/load_generator.hpp"
#include "local/local_cluster.hpp"
#include "nn/policy_file.hpp"
#include "prom/query_client.hpp"
#include "support/eventually.hpp"
#include "support/local_cluster_fixture.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

constexpr const char* kPrometheus = "/usr/bin/prometheus";

std::string read_text(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

// The Prometheus this process's cluster started (a child named prometheus), or 0.
int prometheus_child() {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = read_text(entry.path() / "stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos || stat.find("(prometheus)") == std::string::npos) continue;
    int parent = 0;
    char state = 0;
    if (std::sscanf(stat.c_str() + close + 2, "%c %d", &state, &parent) == 2 && parent == ::getpid() &&
        state != 'Z')
      return std::stoi(name);
  }
  return 0;
}

kube::KubeClient kube_client(const local::LocalCluster& cluster) {
  net::HttpClientOptions options;
  options.base_url = cluster.api_url();
  return kube::KubeClient(options);
}

// live::Env's clients against a local cluster, through the kubeconfig it wrote, as live::connect wires them;
// Prometheus is asked once per query (no retries), so that its loss shows at once.
struct LiveClients {
  static net::HttpClientOptions kube_options(const local::LocalCluster& cluster, const base::Clock& clock) {
    return kube::http_options(*kube::load_kubeconfig(cluster.kubeconfig()), clock).value();
  }
  static net::HttpClientOptions prometheus_options(const local::LocalCluster& cluster) {
    net::HttpClientOptions options;
    options.base_url = cluster.prometheus_url();
    options.retry.max_attempts = 1;
    return options;
  }
  explicit LiveClients(const local::LocalCluster& cluster)
      : kube(kube_options(cluster, clock)),
        deployments(kube),
        prometheus_http(prometheus_options(cluster)),
        prometheus(prometheus_http) {}

  base::RealClock clock;
  kube::KubeClient kube;
  live::KubeDeploymentApi deployments;
  net::HttpClient prometheus_http;
  prom::PrometheusClient prometheus;
};

class LiveEnvTest : public testing::LocalClusterFixture {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kPrometheus))
      GTEST_SKIP() << "no " << kPrometheus << " (Debian's prometheus)";
    local::LocalConfig config;
    config.prometheus_listen = "127.0.0.1:0";
    config.scrape_interval = 1s;
    auto web = testing::target_app_deployment("web", 1, 2);
    // Ready after 5 s, as a real pod: by then Prometheus has found it (its discovery applies every 5 s).
    web.startup_delay = 5s;
    web.readiness_period = 200ms;
    web.termination_grace = 3s;
    web.limits.cpu_cores = 0.3;
    web.annotations = {{"latencySoftConstraint", "100"}, {"latencyHardConstraint", "1000"}};
    config.deployments = {web};
    start(std::move(config));
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(eventually(
        [&] { return kube_client(*cluster_).get_deployment("default", "web")->ready_replicas == 1; }, 20s));
    // Steady open-model load on the Service for the whole test.
    load_ = std::thread([this] {
      local::LoadOptions options;
      options.target = fmt::format("http://127.0.0.1:{}", *cluster_->service_port("default", "web"));
      options.concurrency = 16;
      const auto stages = local::parse_stages("5m:60");
      local::run_load(local::plan_from_stages(*stages, 60), options, 11, stop_load_);
    });
  }

  void TearDown() override {
    stop_load_ = true;
    if (load_.joinable()) load_.join();
    LocalClusterFixture::TearDown();
  }

  live::EnvConfig env_config() const {
    live::EnvConfig config;
    config.deployment = "web";
    config.features = {core::FeatureSet::kExtended, 128.0 * (1 << 20)};
    config.actions = core::multi_action_set();
    config.reward = *core::reward_from_name("cost");
    config.bounds = {1, 3};
    config.interval = 1500ms;
    config.window = 3s;
    config.metrics_wait = 8s;
    config.episode_steps = 10;
    return config;
  }

  std::atomic<bool> stop_load_{false};
  std::thread load_;
};

TEST_F(LiveEnvTest, ALiveFineTuneScalesRealPodsAndChangesThePolicy) {
  const auto initial = folder_ / "initial.maestro";
  const auto tuned = folder_ / "tuned.maestro";
  ASSERT_TRUE(nn::write_policy_file(
      initial, nn::untrained_autoscaling_policy({core::FeatureSet::kExtended, 128.0 * (1 << 20)}, 3,
                                                core::multi_action_set())));
  // Every spec.replicas the deployment is given while training runs.
  std::set<int> replicas_seen;
  std::atomic<bool> watching{true};
  std::thread watcher([&] {
    auto kube = kube_client(*cluster_);
    while (watching) {
      if (const auto web = kube.get_deployment("default", "web"); web) replicas_seen.insert(web->replicas);
      std::this_thread::sleep_for(50ms);  // sampling, not waiting for a condition
    }
  });
  const std::string command = fmt::format(
      "{}/maestro train --env live --init-policy {} --out {} --steps 12 --n-steps 12 --batch-size 6 "
      "--n-epochs 2 "
      "--kubeconfig {} --prometheus {} --deployment web --interval 2 --window 3 --metrics-wait 10 "
      "--episode-steps 6 --min-replicas 1 --max-replicas 3 --quiet >{} 2>&1",
      MAESTRO_BINARY_DIR, initial.string(), tuned.string(), cluster_->kubeconfig().string(),
      cluster_->prometheus_url(), (folder_ / "train.log").string());
  const int status = std::system(command.c_str());
  watching = false;
  watcher.join();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_text(folder_ / "train.log");

  const auto before = nn::read_policy_file(initial);
  const auto after = nn::read_policy_file(tuned);
  ASSERT_TRUE(after.has_value()) << after.error().message;
  EXPECT_EQ(after->metadata.environment, "live:default/web");
  EXPECT_GE(after->metadata.steps, 12u);
  EXPECT_EQ(after->feature_set, "extended");
  const auto tuned_weights = after->network.actor.parameters();
  const auto initial_weights = before->network.actor.parameters();
  EXPECT_FALSE(
      std::equal(tuned_weights.begin(), tuned_weights.end(), initial_weights.begin(), initial_weights.end()))
      << "the policy did not change";
  EXPECT_GE(replicas_seen.size(), 2u) << "no pod was ever scaled";
  const std::string log = read_text(folder_ / "train.log");
  EXPECT_NE(log.find("live env: step"), std::string::npos) << log;
}

TEST_F(LiveEnvTest, PrometheusStoppedMidRunEndsTheEpisodeWithoutAFabricatedObservation) {
  LiveClients clients(*cluster_);
  auto config = live::validate(env_config());
  ASSERT_TRUE(config.has_value()) << config.error().message;
  live::Env env(*config, clients.deployments, clients.prometheus, nullptr);

  std::vector<double> observation(env.observation_size());
  env.reset(1, observation);
  const int hold = 3;  // multi: −50%, −2, −1, 0, …
  const auto measured = env.step(hold, observation);
  EXPECT_FALSE(measured.truncated);
  EXPECT_GT(env.last_observation().rps, 0);
  const std::vector<double> last_measured = observation;

  const int pid = prometheus_child();
  ASSERT_NE(pid, 0);
  ::kill(pid, SIGKILL);
  ASSERT_TRUE(eventually([&] { return prometheus_child() == 0; }, 5s));

  std::vector<double> after(env.observation_size(), -12345);
  const auto faulted = env.step(hold, after);
  EXPECT_TRUE(faulted.truncated) << "a step it could not observe must end the episode";
  EXPECT_FALSE(faulted.terminated);
  EXPECT_EQ(after, last_measured) << "the observation must be the last one measured, not a guess";
  EXPECT_FALSE(env.last_fault().empty());
  const auto info = env.info();
  EXPECT_TRUE(std::find(info.begin(), info.end(), std::pair<std::string, double>{"fault", 1.0}) !=
              info.end());
  EXPECT_TRUE(std::isfinite(faulted.reward));
}

TEST_F(LiveEnvTest, PodsKilledOnAScheduleAreNotChargedToTheAgent) {
  LiveClients clients(*cluster_);
  live::LocalChaosEndpoint chaos(cluster_->chaos_url());
  // Two pods, one killed every 10 s: the other keeps the deployment observable while the replacement starts.
  ASSERT_TRUE(clients.deployments.scale("default", "web", 2).has_value());
  auto config = env_config();
  config.episode_steps = 100;
  config.chaos_spec = R"(
apiVersion: chaos-mesh.org/v1alpha1
kind: Schedule
metadata: {name: kill-web}
spec:
  schedule: "@every 10s"
  type: PodChaos
  podChaos: {action: pod-kill, mode: one, selector: {labelSelectors: {app: web}}}
)";
  auto checked = live::validate(config);
  ASSERT_TRUE(checked.has_value()) << checked.error().message;
  live::Env env(*checked, clients.deployments, clients.prometheus, &chaos);

  std::vector<double> observation(env.observation_size());
  env.reset(1, observation);
  int excused = 0, faults = 0;
  for (int step = 0; step < 8; ++step) {
    env.step(3, observation);  // hold: whatever happens is chaos
    for (const auto& [name, value] : env.info()) {
      excused += name == "excused" && value == 1;
      faults += name == "fault" && value == 1;
    }
  }
  EXPECT_EQ(faults, 0) << env.last_fault();
  EXPECT_FALSE(cluster_->chaos().status().injections.empty()) << "the schedule never fired";
  EXPECT_GE(excused, 1) << "a step during a pod kill's recovery must be excused";
}

}  // namespace
}  // namespace maestro
