// `maestro serve suggest` as a process, against a real Prometheus scraping the target app under load, the
// model server (in this process, with a latency rule for a policy) and the Kubernetes API test double: the
// suggestion carries the action and the observation it was made from; when Kubernetes, Prometheus or the
// model fails it answers 503 with the cause and no action; bad parameters are 400 and leave it healthy.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/action.hpp"
#include "local/fake_kube_api.hpp"
#include "services/model_server/model_server.hpp"
#include "support/monitored_target_app.hpp"
#include "support/prometheus_container_exporter.hpp"
#include "support/prometheus_server.hpp"
#include "support/target_app_load.hpp"
#include "support/target_app_process.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;

constexpr const char* kNamespace = "shop";
constexpr const char* kPod = "web-5d8f7c9b4-x7k2p";

// Scale up over 30 ms p95, down under 5 ms, hold between.
class LatencyRule final : public model_server::ServedPolicy {
 public:
  Result<model_server::PolicyAnswer> predict(const model_server::PredictRequest& request) const override {
    const double latency = request.observation.latency;
    const auto action = latency > 30  ? core::Action::kScaleUp
                        : latency < 5 ? core::Action::kScaleDown
                                      : core::Action::kHold;
    model_server::PolicyAnswer answer{.action = static_cast<int>(action),
                                      .probabilities = std::vector<double>(3)};
    answer.probabilities[static_cast<std::size_t>(action)] = 1;
    return answer;
  }
  const std::string& version() const override { return version_; }

 private:
  std::string version_ = "latency-rule";
};

class SuggestServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() / fmt::format("maestro-suggest-{}", ::getpid());
    std::filesystem::create_directories(directory_);
    std::ofstream(directory_ / "token") << "suggest-token\n";
    std::ofstream(directory_ / "policy") << "rule\n";

    auto monitored =
        testing::MonitoredTargetApp::start({"--cpu-ms", "1", "--workers", "8"}, kNamespace, kPod);
    ASSERT_TRUE(monitored.has_value()) << monitored.error().message;
    app_ = std::move(monitored->app);
    exporter_ = std::move(monitored->exporter);
    prometheus_ = std::move(monitored->prometheus);

    kube_ = std::make_unique<local::FakeKubeApi>("suggest-token");
    ASSERT_TRUE(kube_->start().has_value());
    kube_->put_deployment(
        {.namespace_ = kNamespace,
         .name = "web",
         .replicas = 2,
         .labels = {},
         .annotations = {{"latencySoftConstraint", "30"}, {"latencyHardConstraint", "100"}}});

    model_ = std::make_unique<model_server::ModelServer>(model_server::ModelServerOptions{
        .policy_file = directory_ / "policy",
        .loader =
            [](const std::filesystem::path&) -> Result<std::shared_ptr<const model_server::ServedPolicy>> {
          return std::make_shared<LatencyRule>();
        },
        .http = {},
        .watch_interval = std::nullopt});
    ASSERT_TRUE(model_->load().has_value());
    auto model_port = model_->listen("127.0.0.1:0");
    ASSERT_TRUE(model_port.has_value());
    model_->start();

    auto suggest = testing::ChildProcess::spawn(
        {std::string(MAESTRO_BINARY_DIR) + "/maestro", "serve", "suggest", "--listen", "127.0.0.1:0",
         "--prometheus", prometheus_->url(), "--model", fmt::format("http://127.0.0.1:{}", *model_port),
         "--kubernetes", kube_->url(), "--kube-token-file", (directory_ / "token").string(), "--window",
         "10s", "--timeout-ms", "2000"},
        (directory_ / "suggest.log").string());
    ASSERT_TRUE(suggest.has_value()) << suggest.error().message;
    suggest_ = std::move(*suggest);
    const auto port = testing::read_listening_port(suggest_);
    ASSERT_TRUE(port.has_value()) << "maestro serve suggest did not start";
    net::HttpClientOptions options;
    options.base_url = fmt::format("http://127.0.0.1:{}", *port);
    options.retry.max_attempts = 1;
    options.total_timeout = 10s;
    client_ = std::make_unique<net::HttpClient>(options);

    auto up = prometheus_->wait_for_value(
        "sum(up)", [](double v) { return v == 2; }, 30s);
    ASSERT_TRUE(up.has_value()) << up.error().message;
  }

  void TearDown() override {
    suggest_.stop();
    std::filesystem::remove_all(directory_);
  }

  std::pair<long, nlohmann::json> suggest(const std::string& query) {
    auto response = client_->get("/suggest?" + query);
    if (!response) return {0, nullptr};
    return {response->status, nlohmann::json::parse(response->body, nullptr, false)};
  }

  std::filesystem::path directory_;
  std::unique_ptr<testing::TargetApp> app_;
  std::unique_ptr<testing::ContainerMetricsExporter> exporter_;
  std::unique_ptr<testing::PrometheusServer> prometheus_;
  std::unique_ptr<local::FakeKubeApi> kube_;
  std::unique_ptr<model_server::ModelServer> model_;
  testing::ChildProcess suggest_;
  std::unique_ptr<net::HttpClient> client_;
};

TEST_F(SuggestServerTest, SuggestsFromLiveMetricsAndRefusesWhenASourceFails) {
  // Latencies spread over 1..40 ms: p95 above the rule's 30 ms.
  testing::LoadGenerator load(
      {.base_url = fmt::format("http://127.0.0.1:{}", app_->port),
       .clients = 2,
       .requests_per_second_per_client = 15,
       .max_duration = 90s,
       .path = [](std::size_t i) { return fmt::format("/work?wait_ms={}", 1 + i % 40); }});
  load.start();

  // Poll until the window holds enough scrapes for every metric (503 "no data" until then).
  auto [status, answer] = suggest("deployment=web&namespace=shop");
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (status != 200 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(500ms);
    std::tie(status, answer) = suggest("deployment=web&namespace=shop");
  }
  ASSERT_EQ(status, 200) << answer.dump();
  // The window must be full of load before the numbers can be compared.
  std::this_thread::sleep_for(11s);  // letting a 10 s rate window fill with load, not waiting for a condition
  std::tie(status, answer) = suggest("deployment=web&namespace=shop");
  ASSERT_EQ(status, 200) << answer.dump();
  EXPECT_EQ(answer["action"], 2) << answer.dump();
  EXPECT_EQ(answer["model_version"], "latency-rule");
  EXPECT_EQ(answer["observation"]["replicas"], 2.0);
  EXPECT_NEAR(answer["observation"]["rps"].get<double>(), 30.0, 4.5) << answer.dump();
  EXPECT_GT(answer["observation"]["latency"].get<double>(), 30.0);
  EXPECT_LT(answer["observation"]["latency"].get<double>(), 50.0);
  EXPECT_GT(answer["observation"]["cpu_usage"].get<double>(), 0.0);
  EXPECT_GT(answer["observation"]["memory_usage"].get<double>(), 1e6);
  EXPECT_LT(answer["observation"]["memory_usage"].get<double>(), 5e8);  // the decoy series are left out
  EXPECT_EQ(answer["constraints"]["latency_soft_ms"], 30.0);
  EXPECT_EQ(suggest("deployment=web&namespace=shop").first, 200);
  EXPECT_EQ(client_->get("/suggestion?deployment=web&namespace=shop")->status, 200);

  // Bad parameters: 400, and the server stays healthy.
  EXPECT_EQ(suggest("namespace=shop").first, 400);
  EXPECT_EQ(suggest("deployment=web").first, 400);
  EXPECT_EQ(suggest("deployment=%22web&namespace=shop").first, 400);
  EXPECT_EQ(client_->get("/healthz")->status, 200);

  // Kubernetes: a deployment it does not know, and an API that answers 500.
  std::tie(status, answer) = suggest("deployment=api&namespace=shop");
  EXPECT_EQ(status, 503);
  EXPECT_EQ(answer["cause"], "kubernetes");
  EXPECT_FALSE(answer.contains("action"));
  kube_->inject(
      {.fault = local::KubeFault::kServerError, .count = std::nullopt, .method = "GET", .path_contains = ""});
  std::tie(status, answer) = suggest("deployment=web&namespace=shop");
  EXPECT_EQ(status, 503);
  EXPECT_EQ(answer["cause"], "kubernetes");
  kube_->clear_faults();
  EXPECT_EQ(suggest("deployment=web&namespace=shop").first, 200);

  // The model server gone.
  model_->stop();
  std::tie(status, answer) = suggest("deployment=web&namespace=shop");
  EXPECT_EQ(status, 503);
  EXPECT_EQ(answer["cause"], "model");
  EXPECT_FALSE(answer.contains("action"));

  // Prometheus gone.
  load.stop();
  prometheus_.reset();
  std::tie(status, answer) = suggest("deployment=web&namespace=shop");
  EXPECT_EQ(status, 503);
  EXPECT_EQ(answer["cause"], "prometheus");
  EXPECT_FALSE(answer.contains("action"));
  EXPECT_EQ(client_->get("/healthz")->status, 200);
  EXPECT_TRUE(suggest_.running());
}

}  // namespace
}  // namespace maestro
