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
#include "net/secret_file.hpp"
#include "prom/credentials.hpp"
#include "prom/state_builder.hpp"
#include "services/model_server/model_server.hpp"
#include "support/fake_prometheus.hpp"
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

// The model server in this process, serving LatencyRule for the placeholder file `policy`; null if it did not
// start.
// `token`: the model server asks for it (net/bearer_auth.hpp).
std::unique_ptr<model_server::ModelServer> start_rule_model(const std::filesystem::path& policy,
                                                            std::shared_ptr<net::TokenFile> token = nullptr) {
  auto model = std::make_unique<model_server::ModelServer>(model_server::ModelServerOptions{
      .policy_file = policy,
      .loader =
          [](const std::filesystem::path&) -> Result<std::shared_ptr<const model_server::ServedPolicy>> {
        return std::make_shared<LatencyRule>();
      },
      .http = {.bearer_token = std::move(token)},
      .watch_interval = std::nullopt});
  if (!model->load() || !model->listen("127.0.0.1:0")) return nullptr;
  model->start();
  return model;
}

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
    kube_->put_deployment({.namespace_ = kNamespace,
                           .name = "web",
                           .replicas = 2,
                           .labels = {},
                           // One process stands for both replicas: its pods cannot be counted in its metrics.
                           .annotations = {{"latencySoftConstraint", "30"},
                                           {"latencyHardConstraint", "100"},
                                           {"maestro.io/query-pods-reporting", prom::kNoPodsCheck}}});

    model_ = start_rule_model(directory_ / "policy");
    ASSERT_TRUE(model_ != nullptr);
    const auto model_port = model_->http().port();

    auto suggest = testing::ChildProcess::spawn(
        {std::string(MAESTRO_BINARY_DIR) + "/maestro", "serve", "suggest", "--listen", "127.0.0.1:0",
         "--prometheus", prometheus_->url(), "--model", fmt::format("http://127.0.0.1:{}", model_port),
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

// With &autoscaler=NAME the suggestion server reads the MaestroAutoscaler: its target may be a StatefulSet
// (replicas from its scale, pods by the scale's selector: $pods is their names), and the queries of its
// spec.metrics.queries reach Prometheus with the placeholders filled in; its spec.slo is the SLO answered. A
// request names a resource, never a query; a resource that does not target the deployment asked about, or
// whose query is bad, is no suggestion.
TEST_F(SuggestServerTest, AnAutoscalersTargetOfAnyKindIsObservedWithItsOwnQueries) {
  local::FakeDeployment cache = local::fake_deployment(kNamespace, "cache", 3);
  cache.kind = "StatefulSet";
  kube_->put_deployment(cache);
  local::PodObject pod;
  pod.namespace_ = kNamespace;
  pod.name = kPod;
  pod.deployment = "cache";
  pod.phase = "Running";
  pod.ready = true;
  kube_->set_pods(kNamespace, "cache", {pod});
  const nlohmann::json autoscaler = {
      {"apiVersion", "autoscaling.maestro.io/v1alpha1"},
      {"kind", "MaestroAutoscaler"},
      {"metadata", {{"name", "cache-autoscaler"}, {"namespace", kNamespace}}},
      {"spec",
       {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "StatefulSet"}, {"name", "cache"}}},
        {"maxReplicas", 10},
        {"slo", {{"latencySoftMilliseconds", 150}, {"latencyHardMilliseconds", 400}}},
        {"policy", {{"type", "Learned"}, {"learned", {{"name", "latency-rule"}}}}},
        {"metrics", {{"queries", {{"rps", R"(21 * sum(up{namespace="$namespace",pod=~"$pods"}))"}}}}}}}};
  const std::string collection = "/apis/autoscaling.maestro.io/v1alpha1/namespaces/shop/maestroautoscalers";
  ASSERT_EQ(kube_
                ->handle({"POST", collection, "", "Bearer suggest-token", "application/json", "",
                          autoscaler.dump()})
                .status,
            201);

  // Requests, so that the pod reports the app's metrics as well as cAdvisor's (the default podsReporting).
  testing::LoadGenerator load({.base_url = fmt::format("http://127.0.0.1:{}", app_->port),
                               .clients = 1,
                               .requests_per_second_per_client = 10,
                               .max_duration = 90s,
                               .path = [](std::size_t) { return std::string("/work?wait_ms=1"); }});
  load.start();
  const std::string query = "deployment=cache&namespace=shop&autoscaler=cache-autoscaler";
  auto [status, answer] = suggest(query);
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (status != 200 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(500ms);
    std::tie(status, answer) = suggest(query);
  }
  ASSERT_EQ(status, 200) << answer.dump();
  EXPECT_EQ(answer["observation"]["rps"], 21.0) << "the resource's rps query, with $namespace and $pods";
  EXPECT_EQ(answer["observation"]["replicas"], 3.0) << "the StatefulSet's scale";
  EXPECT_GT(answer["observation"]["memory_usage"].get<double>(), 1e6) << "the default queries, over $pods";
  EXPECT_EQ(answer["constraints"]["latency_soft_ms"], 150.0) << "the resource's SLO";
  EXPECT_EQ(answer["constraints"]["latency_hard_ms"], 400.0);

  std::tie(status, answer) = suggest("deployment=web&namespace=shop&autoscaler=cache-autoscaler");
  EXPECT_EQ(status, 503);
  EXPECT_EQ(answer["cause"], "kubernetes") << answer.dump();
  EXPECT_EQ(suggest("deployment=cache&namespace=shop&autoscaler=%22x").first, 400);

  const nlohmann::json bad_query = {
      {"spec", {{"metrics", {{"queries", {{"rps", "sum(rate($requests[1m]))"}}}}}}}};
  ASSERT_EQ(kube_
                ->handle({"PATCH", collection + "/cache-autoscaler", "", "Bearer suggest-token",
                          "application/merge-patch+json", "", bad_query.dump()})
                .status,
            200);
  std::tie(status, answer) = suggest(query);
  EXPECT_EQ(status, 503);
  EXPECT_NE(answer.value("error", "").find("$requests"), std::string::npos) << answer.dump();
  EXPECT_EQ(client_->get("/healthz")->status, 200);
}

// The Prometheus password appears in no log line and no response: credentials in the URL are refused at
// start-up without echoing them, and those read from a file are used but never said, even when Prometheus
// fails and its errors travel to unauthenticated callers in 503 bodies.
TEST(SuggestServerSecrets, ThePrometheusPasswordIsNeverLoggedNorAnswered) {
  const std::string secret = "s3cret-Pa55word";
  const auto directory =
      std::filesystem::temp_directory_path() / fmt::format("maestro-suggest-secrets-{}", ::getpid());
  std::filesystem::create_directories(directory);
  std::ofstream(directory / "token") << "suggest-token\n";
  std::ofstream(directory / "prometheus-auth") << "maestro:" << secret << "\n";
  const auto read = [](const std::filesystem::path& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };

  auto prometheus = std::make_unique<testing::FakePrometheus>();
  auto authorization = prom::basic_authorization(directory / "prometheus-auth");
  ASSERT_TRUE(authorization.has_value());
  prometheus->require_authorization(*authorization);
  prometheus->set({.cpu_usage = 50, .memory_usage = 1e8, .replicas = 2, .latency = 40, .rps = 10});
  ASSERT_TRUE(prometheus->start().has_value());
  const std::string prometheus_url = prometheus->url();
  local::FakeKubeApi kube("suggest-token");
  ASSERT_TRUE(kube.start().has_value());
  kube.put_deployment(local::fake_deployment(kNamespace, "web", 2));
  std::ofstream(directory / "policy") << "rule\n";
  const auto model = start_rule_model(directory / "policy");
  ASSERT_TRUE(model != nullptr);
  const auto serve = [&](const std::string& prometheus_flag, std::vector<std::string> extra,
                         const std::string& log) {
    std::vector<std::string> args = {std::string(MAESTRO_BINARY_DIR) + "/maestro",
                                     "serve",
                                     "suggest",
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--prometheus",
                                     prometheus_flag,
                                     "--model",
                                     fmt::format("http://127.0.0.1:{}", model->http().port()),
                                     "--kubernetes",
                                     kube.url(),
                                     "--kube-token-file",
                                     (directory / "token").string(),
                                     "--timeout-ms",
                                     "300"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto child = testing::ChildProcess::spawn(args, (directory / log).string());
    if (!child) throw std::runtime_error(child.error().message);
    return std::move(*child);
  };

  // In the URL: refused as a usage error, the URL named without its password.
  auto refused = serve(fmt::format("http://maestro:{}@{}", secret, prometheus_url.substr(7)), {}, "url.log");
  const auto status = refused.wait(30s);
  ASSERT_TRUE(status.has_value()) << "started with credentials in the URL";
  EXPECT_EQ(WEXITSTATUS(*status), 2);
  const std::string url_log = read(directory / "url.log");
  EXPECT_NE(url_log.find("credentials"), std::string::npos) << url_log;
  EXPECT_EQ(url_log.find(secret), std::string::npos) << url_log;

  // From a file: used, and never said.
  auto suggest = serve(
      prometheus_url, {"--prometheus-basic-auth-file", (directory / "prometheus-auth").string()}, "file.log");
  const auto port = testing::read_listening_port(suggest);
  ASSERT_TRUE(port.has_value());
  net::HttpClientOptions options;
  options.base_url = fmt::format("http://127.0.0.1:{}", *port);
  options.retry.max_attempts = 1;
  net::HttpClient client(options);
  std::string answers;
  auto answer = client.get("/suggest?deployment=web&namespace=shop");
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 200) << answer->body;
  answers += answer->body;
  prometheus->require_authorization("Basic wrong");  // Prometheus refuses it (a rotated password) ...
  answer = client.get("/suggest?deployment=web&namespace=shop");
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 503) << answer->body;
  answers += answer->body;
  prometheus.reset();  // ... and is gone
  answer = client.get("/suggest?deployment=web&namespace=shop");
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 503) << answer->body;
  answers += answer->body + client.get("/metrics")->body;
  // Log lines go to stdout, messages before start-up to stderr.
  suggest.signal(SIGTERM);
  ASSERT_TRUE(suggest.wait(10s).has_value());
  std::string file_log = read(directory / "file.log");
  while (auto line = suggest.read_line(1s)) file_log += *line + "\n";
  EXPECT_NE(file_log.find("outcome=unavailable cause=prometheus"), std::string::npos) << file_log;
  for (const auto& text : {answers, file_log}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << text;
    EXPECT_EQ(text.find(authorization->substr(6)), std::string::npos) << text;  // nor its base64
  }
  std::filesystem::remove_all(directory);
}

// With --auth-token-file, /suggest answers only callers with the token, and with --model-token-file the
// suggestion server is let in by a model server that asks for one; neither token is logged or answered.
TEST(SuggestServerSecrets, BearerTokensGuardTheSuggestionAndModelServersAndAreNeverSaid) {
  const std::string suggest_secret = "suggest-B3arer-t0ken";
  const std::string model_secret = "model-B3arer-t0ken";
  const auto directory =
      std::filesystem::temp_directory_path() / fmt::format("maestro-suggest-bearer-{}", ::getpid());
  std::filesystem::create_directories(directory);
  std::ofstream(directory / "kube-token") << "suggest-token\n";
  std::ofstream(directory / "suggest-token") << suggest_secret << "\n";
  std::ofstream(directory / "model-token") << model_secret << "\n";
  std::ofstream(directory / "policy") << "rule\n";

  testing::FakePrometheus prometheus;
  prometheus.set({.cpu_usage = 50, .memory_usage = 1e8, .replicas = 2, .latency = 40, .rps = 10});
  ASSERT_TRUE(prometheus.start().has_value());
  local::FakeKubeApi kube("suggest-token");
  ASSERT_TRUE(kube.start().has_value());
  kube.put_deployment(local::fake_deployment(kNamespace, "web", 2));
  base::RealClock clock;
  const auto model = start_rule_model(directory / "policy",
                                      std::make_shared<net::TokenFile>(directory / "model-token", clock));
  ASSERT_TRUE(model != nullptr);

  auto suggest = testing::ChildProcess::spawn(
      {std::string(MAESTRO_BINARY_DIR) + "/maestro", "serve", "suggest", "--listen", "127.0.0.1:0",
       "--prometheus", prometheus.url(), "--model", fmt::format("http://127.0.0.1:{}", model->http().port()),
       "--model-token-file", (directory / "model-token").string(), "--auth-token-file",
       (directory / "suggest-token").string(), "--kubernetes", kube.url(), "--kube-token-file",
       (directory / "kube-token").string(), "--timeout-ms", "2000"},
      (directory / "suggest.log").string());
  ASSERT_TRUE(suggest.has_value()) << suggest.error().message;
  const auto port = testing::read_listening_port(*suggest);
  ASSERT_TRUE(port.has_value());
  const auto ask = [&](std::optional<std::string> token) {
    net::HttpClientOptions options;
    options.base_url = fmt::format("http://127.0.0.1:{}", *port);
    options.retry.max_attempts = 1;
    if (token) options.bearer_token = [token] { return Result<std::string>(*token); };
    auto answer = net::HttpClient(options).get("/suggest?deployment=web&namespace=shop");
    EXPECT_TRUE(answer.has_value());
    return answer.value_or(net::Response{});
  };

  std::string answers;
  for (const auto& token : {std::optional<std::string>{}, std::optional<std::string>{"wrong"}}) {
    const auto refused = ask(token);
    EXPECT_EQ(refused.status, 401) << refused.body;
    answers += refused.body;
  }
  const auto allowed = ask(suggest_secret);
  EXPECT_EQ(allowed.status, 200) << allowed.body;  // the model server let the suggestion server in
  answers += allowed.body;
  EXPECT_EQ(ask(std::nullopt).status, 401);

  suggest->signal(SIGTERM);
  ASSERT_TRUE(suggest->wait(10s).has_value());
  std::ifstream in(directory / "suggest.log");
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (auto line = suggest->read_line(1s)) log += *line + "\n";
  for (const auto& text : {answers, log})
    for (const auto& secret : {suggest_secret, model_secret})
      EXPECT_EQ(text.find(secret), std::string::npos) << text;
  std::filesystem::remove_all(directory);
}

}  // namespace
}  // namespace maestro
