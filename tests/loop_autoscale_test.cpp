// The whole loop on loopback: the sample target app under load, a real Prometheus scraping it (and a cAdvisor
// stand-in for its CPU and memory), the model server serving a policy file, `maestro serve suggest`,
// `maestro controller` and the Kubernetes API test double. Under load the deployment is scaled up to its
// maximum; after the load it is scaled back down to its minimum, every write within bounds and each one
// recorded as an Event.
//
// The policy is a real policy file run by the nn library, with weights set by hand rather than trained so
// that the test knows what it must do: scale up when the request rate is over 25/s, down under 10/s, hold
// between.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "local/fake_kube_api.hpp"
#include "prom/state_builder.hpp"
#include "services/model_server/model_server.hpp"
#include "services/model_server/nn_policy.hpp"
#include "support/monitored_target_app.hpp"
#include "support/prometheus_container_exporter.hpp"
#include "support/prometheus_server.hpp"
#include "support/target_app_load.hpp"
#include "support/target_app_process.hpp"
#include "support/threshold_policy.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;

constexpr const char* kNamespace = "shop";
constexpr const char* kPod = "web-5d8f7c9b4-x7k2p";
constexpr int kMin = 1;
constexpr int kMax = 4;
constexpr double kScaleUpRps = 25;
constexpr double kScaleDownRps = 10;

class LoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() / fmt::format("maestro-loop-{}", ::getpid());
    std::filesystem::create_directories(directory_);
    std::ofstream(directory_ / "token") << "loop-token\n";

    auto monitored =
        testing::MonitoredTargetApp::start({"--cpu-ms", "1", "--workers", "8"}, kNamespace, kPod);
    ASSERT_TRUE(monitored.has_value()) << monitored.error().message;
    app_ = std::move(monitored->app);
    exporter_ = std::move(monitored->exporter);
    prometheus_ = std::move(monitored->prometheus);

    auto web = local::fake_deployment(kNamespace, "web", kMin);
    // One process stands for every replica: its pods cannot be counted in its metrics.
    web.annotations = {{"latencySoftConstraint", "50"},
                       {"latencyHardConstraint", "200"},
                       {"maestro.io/query-pods-reporting", prom::kNoPodsCheck}};
    kube_.put_deployment(web);
    ASSERT_TRUE(kube_.start().has_value());

    ASSERT_TRUE(nn::write_policy_file(directory_ / "policy.maestro",
                                      testing::rps_threshold_policy(kScaleUpRps, kScaleDownRps))
                    .has_value());
    model_ = std::make_unique<model_server::ModelServer>(
        model_server::ModelServerOptions{.policy_file = directory_ / "policy.maestro",
                                         .loader = model_server::load_policy_file,
                                         .http = {},
                                         .watch_interval = std::nullopt});
    ASSERT_TRUE(model_->load().has_value());
    auto model_port = model_->listen("127.0.0.1:0");
    ASSERT_TRUE(model_port.has_value());
    model_->start();

    auto suggest = testing::ChildProcess::spawn(
        {maestro(), "serve", "suggest", "--listen", "127.0.0.1:0", "--prometheus", prometheus_->url(),
         "--model", fmt::format("http://127.0.0.1:{}", *model_port), "--kubernetes", kube_.url(),
         "--kube-token-file", (directory_ / "token").string(), "--window", "10s", "--timeout-ms", "2000"},
        (directory_ / "suggest.log").string());
    ASSERT_TRUE(suggest.has_value()) << suggest.error().message;
    suggest_ = std::move(*suggest);
    const auto line = suggest_.read_line(10s);
    unsigned suggest_port = 0;
    ASSERT_TRUE(line && std::sscanf(line->c_str(), "listening on %u", &suggest_port) == 1)
        << line.value_or("(nothing)");

    std::ofstream(directory_ / "controller.yaml")
        << fmt::format(R"(
suggestion_server: http://127.0.0.1:{}
suggestion_timeout_ms: 5000
listen: 127.0.0.1:0
kubernetes:
  server: {}
  token_file: token
defaults:
  interval_seconds: 2
  min_replicas: {}
  max_replicas: {}
deployments:
  - namespace: {}
    name: web
)",
                       suggest_port, kube_.url(), kMin, kMax, kNamespace);

    auto up = prometheus_->wait_for_value(
        "sum(up)", [](double v) { return v == 2; }, 30s);
    ASSERT_TRUE(up.has_value()) << up.error().message;
  }

  void TearDown() override {
    controller_.stop();
    suggest_.stop();
    std::filesystem::remove_all(directory_);
  }

  static std::string maestro() { return std::string(MAESTRO_BINARY_DIR) + "/maestro"; }

  testing::LoadGenerator load(int clients, double rps_per_client, std::chrono::seconds bound) {
    return testing::LoadGenerator({.base_url = fmt::format("http://127.0.0.1:{}", app_->port),
                                   .clients = clients,
                                   .requests_per_second_per_client = rps_per_client,
                                   .max_duration = bound,
                                   .path = [](std::size_t) { return std::string("/work"); }});
  }

  // Polls the fake API's replicas until `want` or the deadline; the last value seen.
  int wait_for_replicas(int want, std::chrono::seconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    int replicas = kube_.replicas(kNamespace, "web").value_or(-1);
    while (replicas != want && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(250ms);  // polling, with a deadline
      replicas = kube_.replicas(kNamespace, "web").value_or(-1);
    }
    return replicas;
  }

  std::filesystem::path directory_;
  std::unique_ptr<testing::TargetApp> app_;
  std::unique_ptr<testing::ContainerMetricsExporter> exporter_;
  std::unique_ptr<testing::PrometheusServer> prometheus_;
  local::FakeKubeApi kube_{"loop-token"};
  std::unique_ptr<model_server::ModelServer> model_;
  testing::ChildProcess suggest_;
  testing::ChildProcess controller_;
};

TEST_F(LoopTest, ScalesUpUnderLoadAndBackDownAfterIt) {
  // A trickle throughout (4/s: below the scale-down threshold, but enough for a p95), so that "after the
  // load" is low traffic rather than no data.
  auto trickle = load(1, 4, 240s);
  trickle.start();
  // Wait until the suggestion's queries have a full window of data before the controller starts.
  auto rate = prometheus_->wait_for_value(R"(sum(rate(http_requests_total{namespace="shop"}[10s])))",
                                          [](double v) { return v > 2; }, 40s);
  ASSERT_TRUE(rate.has_value()) << rate.error().message;

  auto controller = testing::ChildProcess::spawn(
      {maestro(), "controller", "--config", (directory_ / "controller.yaml").string()},
      (directory_ / "controller.log").string());
  ASSERT_TRUE(controller.has_value()) << controller.error().message;
  controller_ = std::move(*controller);
  // Both log to stdout, a line per decision: drain them so that neither blocks on a full pipe.
  std::atomic<bool> draining{true};
  std::thread drain([&] {
    while (draining) {
      controller_.read_line(100ms);
      suggest_.read_line(100ms);
    }
  });

  auto heavy = load(4, 15, 120s);  // 60/s
  heavy.start();
  const int peak = wait_for_replicas(kMax, 90s);
  heavy.stop();
  EXPECT_EQ(peak, kMax) << "did not scale up to the maximum under load";

  const int after = wait_for_replicas(kMin, 90s);
  EXPECT_EQ(after, kMin) << "did not scale back down after the load";
  trickle.stop();
  draining = false;
  drain.join();

  const auto writes = kube_.scale_writes();
  std::string timeline;
  for (const auto& write : writes) timeline += fmt::format(" {}→{}", write.from, write.to);
  std::cout << "scale writes:" << timeline << "\n";
  ASSERT_GE(writes.size(), static_cast<std::size_t>(2 * (kMax - kMin)));
  bool went_down = false;
  for (const auto& write : writes) {
    EXPECT_GE(write.to, kMin);
    EXPECT_LE(write.to, kMax);
    EXPECT_EQ(std::abs(write.to - write.from), 1) << "more than one step at once";
    if (went_down) {
      EXPECT_LT(write.to, write.from) << "scaled up again after the load";
    }
    went_down = went_down || write.to < write.from;
  }
  const auto events = kube_.events();
  EXPECT_EQ(events.size(), writes.size());
  for (const auto& event : events) EXPECT_EQ(event.reason, "SuccessfulRescale");
}

}  // namespace
}  // namespace maestro
