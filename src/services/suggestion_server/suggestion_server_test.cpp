// Tests of the suggestion server against fakes of Kubernetes, Prometheus and the model: the answer's shape,
// 503 with the cause on every failure (never an action), 400 on bad parameters, and one decision at a time
// per deployment.
#include "services/suggestion_server/suggestion_server.hpp"

#include <atomic>
#include <future>
#include <latch>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "net/http_client.hpp"
#include "services/suggestion_server/model_client.hpp"

namespace maestro::suggestion_server {
namespace {

using namespace std::chrono_literals;

class FakeKubernetes final : public DeploymentSource {
 public:
  std::map<std::string, DeploymentInfo> deployments;  // by "namespace/name"
  std::function<void(const std::string&)> on_get;     // runs inside get(), for concurrency tests
  std::mutex mutex;

  Result<DeploymentInfo> get(const std::string& namespace_name, const std::string& name) override {
    const std::string key = namespace_name + "/" + name;
    if (on_get) on_get(key);
    std::lock_guard lock(mutex);
    const auto found = deployments.find(key);
    if (found == deployments.end()) return fail("deployments.apps \"{}\" not found (404)", name);
    return found->second;
  }
};

class FakePrometheus final : public prom::MetricsSource {
 public:
  std::atomic<bool> has_latency{true};
  std::atomic<double> cpu{150.0};
  std::atomic<int> cpu_queries{0};
  std::atomic<int> pods_reporting{5};
  prom::QueryResult<std::vector<prom::Sample>> samples(std::string_view) override {
    return std::vector<prom::Sample>(static_cast<std::size_t>(pods_reporting.load()),
                                     prom::Sample{.labels = {}, .timestamp = 0, .value = 1});
  }
  prom::QueryResult<double> value(std::string_view promql) override {
    if (promql.find("container_cpu") != std::string_view::npos) {
      ++cpu_queries;
      return cpu.load();
    }
    if (promql.find("container_memory") != std::string_view::npos) return 3e8;
    if (promql.find("duration_seconds_bucket") != std::string_view::npos) {
      if (has_latency) return 42.0;
      prom::QueryError error;
      error.kind = prom::QueryErrorKind::kNoData;
      error.message = "no data: the query gave NaN";
      return std::unexpected(error);
    }
    return 120.0;
  }
};

class FakeModel final : public ActionModel {
 public:
  std::atomic<bool> up{true};
  PolicyNeeds policy{.model_version = "abc", .features = {}, .needs_features = false};
  std::optional<core::Observation> seen;
  std::vector<double> seen_features;
  std::optional<double> seen_cpu_request;
  Result<PolicyNeeds> needs() override {
    if (!up) return fail("model server unreachable: connection refused");
    return policy;
  }
  Result<ModelAnswer> predict(const core::Observation& observation, std::span<const double> features,
                              std::optional<double> cpu_request_cores) override {
    if (!up) return fail("model server unreachable: connection refused");
    seen = observation;
    seen_features.assign(features.begin(), features.end());
    seen_cpu_request = cpu_request_cores;
    const int replicas = static_cast<int>(observation.replicas);
    return ModelAnswer{.action = 2,
                       .action_name = "scale_up",
                       .action_set = "original",
                       .replica_change = {core::ReplicaChange::Kind::kPods, 1},
                       .replicas = replicas,
                       .desired_replicas = replicas + 1,
                       .probabilities = {0.1, 0.2, 0.7},
                       .model_version = "abc"};
  }
};

class SuggestionServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kubernetes_.deployments["shop/web"] =
        DeploymentInfo{.replicas = 3,
                       .ready_replicas = 3,
                       .annotations = {{"latencySoftConstraint", "50"}, {"latencyHardConstraint", "200"}}};
    kubernetes_.deployments["shop/api"] =
        DeploymentInfo{.replicas = 2, .ready_replicas = 2, .annotations = {}};
    auto port = server_.listen("127.0.0.1:0");
    ASSERT_TRUE(port.has_value());
    server_.start();
    net::HttpClientOptions options;
    options.base_url = fmt::format("http://127.0.0.1:{}", *port);
    options.retry.max_attempts = 1;
    client_ = std::make_unique<net::HttpClient>(options);
  }

  net::Response get(const std::string& path) {
    auto response = client_->get(path);
    EXPECT_TRUE(response.has_value());
    return response ? *response : net::Response{};
  }

  FakeKubernetes kubernetes_;
  FakePrometheus prometheus_;
  prom::StateBuilder state_builder_{prometheus_};
  FakeModel model_;
  base::ManualClock clock_;
  SuggestionServer server_{kubernetes_, state_builder_, model_, clock_};
  std::unique_ptr<net::HttpClient> client_;
};

TEST_F(SuggestionServerTest, AnswersTheActionWithTheObservationItUsed) {
  for (const char* path : {"/suggest", "/suggestion"}) {
    auto response = get(fmt::format("{}?deployment=web&namespace=shop", path));
    ASSERT_EQ(response.status, 200) << response.body;
    const auto answer = nlohmann::json::parse(response.body);
    EXPECT_EQ(answer["action"], 2);
    EXPECT_EQ(answer["action_name"], "scale_up");
    EXPECT_EQ(answer["observation"]["cpu_usage"], 150.0);
    EXPECT_EQ(answer["observation"]["memory_usage"], 3e8);
    EXPECT_EQ(answer["observation"]["replicas"], 3.0);
    EXPECT_EQ(answer["observation"]["latency"], 42.0);
    EXPECT_EQ(answer["observation"]["rps"], 120.0);
    EXPECT_EQ(answer["model_version"], "abc");
    EXPECT_EQ(answer["constraints"]["latency_soft_ms"], 50.0);
    EXPECT_EQ(answer["constraints"]["latency_hard_ms"], 200.0);
    // What the action means, and for which replicas it was decided.
    EXPECT_EQ(answer["action_set"], "original");
    EXPECT_EQ(answer["replica_change"], nlohmann::json({{"kind", "pods"}, {"amount", 1.0}}));
    EXPECT_EQ(answer["replicas"], 3);
    EXPECT_EQ(answer["desired_replicas"], 4);
    EXPECT_EQ(answer["feature_set"], "original");
  }
  ASSERT_TRUE(model_.seen.has_value());
  EXPECT_DOUBLE_EQ(model_.seen->replicas, 3);
}

// A policy of utilisation targets is asked with the pods' CPU request, and never without one.
TEST_F(SuggestionServerTest, APolicyOfUtilisationTargetsIsGivenThePodsCpuRequest) {
  ASSERT_TRUE(get("/suggest?deployment=web&namespace=shop").status == 200);
  EXPECT_EQ(model_.seen_cpu_request, std::nullopt);  // a policy that does not need it is not sent it

  model_.policy.needs_cpu_request = true;
  auto response = get("/suggest?deployment=web&namespace=shop");
  EXPECT_EQ(response.status, 503) << response.body;
  EXPECT_EQ(nlohmann::json::parse(response.body)["cause"], "kubernetes");
  EXPECT_NE(response.body.find("request no CPU"), std::string::npos) << response.body;

  kubernetes_.deployments["shop/web"].cpu_request_cores = 0.25;
  response = get("/suggest?deployment=web&namespace=shop");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(model_.seen_cpu_request, 0.25);
}

TEST_F(SuggestionServerTest, EveryFailureIs503WithTheCauseAndNoAction) {
  const auto expect_unavailable = [&](const std::string& path, const std::string& cause,
                                      const std::string& text) {
    auto response = get(path);
    EXPECT_EQ(response.status, 503) << response.body;
    const auto answer = nlohmann::json::parse(response.body);
    EXPECT_FALSE(answer.contains("action")) << response.body;
    EXPECT_EQ(answer["cause"], cause);
    EXPECT_NE(answer["error"].get<std::string>().find(text), std::string::npos) << response.body;
  };
  expect_unavailable("/suggest?deployment=missing&namespace=shop", "kubernetes", "not found");

  prometheus_.has_latency = false;
  expect_unavailable("/suggest?deployment=web&namespace=shop", "prometheus", "latency of shop/web: no data");
  prometheus_.has_latency = true;

  model_.up = false;
  expect_unavailable("/suggest?deployment=web&namespace=shop", "model", "unreachable");
  model_.up = true;

  kubernetes_.deployments["shop/web"].annotations["latencyHardConstraint"] = "fast";
  expect_unavailable("/suggest?deployment=web&namespace=shop", "annotation", "latencyHardConstraint='fast'");
  kubernetes_.deployments["shop/web"].annotations["latencyHardConstraint"] = "20";  // below soft
  expect_unavailable("/suggest?deployment=web&namespace=shop", "annotation", "latencyHardConstraint");
  kubernetes_.deployments["shop/web"].annotations.erase("latencyHardConstraint");  // only one of the two
  expect_unavailable("/suggest?deployment=web&namespace=shop", "annotation", "latencySoftConstraint");

  const std::string metrics = get("/metrics").body;
  EXPECT_NE(metrics.find(R"(maestro_suggestion_failures_total{cause="annotation"} 3)"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(maestro_suggestion_failures_total{cause="prometheus"} 1)"), std::string::npos);
}

TEST_F(SuggestionServerTest, BadParametersAre400AndTheServerStaysHealthy) {
  EXPECT_EQ(get("/suggest?namespace=shop").status, 400);
  EXPECT_EQ(get("/suggest?deployment=web").status, 400);
  EXPECT_EQ(get("/suggest?deployment=&namespace=shop").status, 400);
  EXPECT_EQ(get("/suggest").status, 400);
  auto injected = get("/suggest?deployment=web%22%7D%20or%20vector(1)&namespace=shop");
  EXPECT_EQ(injected.status, 400);
  EXPECT_NE(injected.body.find("not a valid Kubernetes name"), std::string::npos);
  EXPECT_EQ(get("/suggest?deployment=Web&namespace=shop").status, 400);
  // A name that is not UTF-8 is refused by name (it used to make the error body unserialisable: 500).
  auto not_utf8 = get("/suggest?deployment=web%FF&namespace=shop");
  EXPECT_EQ(not_utf8.status, 400);
  EXPECT_NE(not_utf8.body.find("not a valid Kubernetes name"), std::string::npos);
  EXPECT_EQ(client_->post("/suggest?deployment=web&namespace=shop", "{}")->status, 405);
  EXPECT_EQ(get("/healthz").status, 200);
  EXPECT_EQ(get("/suggest?deployment=web&namespace=shop").status, 200);
}

// Requests for one deployment that arrive while its decision is being made share that decision (one round of
// queries for all), and never start a second one beside it; another deployment is not held up.
TEST_F(SuggestionServerTest, ConcurrentRequestsForOneDeploymentShareOneDecision) {
  std::latch web_entered(1), api_entered(1);
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<int> web_inside{0}, web_entries{0};
  kubernetes_.on_get = [&](const std::string& key) {
    if (key == "shop/web") {
      ++web_entries;
      if (++web_inside > 1) ADD_FAILURE() << "two decisions for shop/web at once";
      if (web_entries == 1) {
        web_entered.count_down();
        released.wait();
      }
      --web_inside;
    } else {
      api_entered.count_down();
    }
  };
  auto first = std::async(std::launch::async, [&] { return get("/suggest?deployment=web&namespace=shop"); });
  web_entered.wait();
  auto second = std::async(std::launch::async, [&] { return get("/suggest?deployment=web&namespace=shop"); });
  // Another deployment is not held up by web's decision.
  auto other =
      std::async(std::launch::async, [&] { return get("/suggest?deployment=api&namespace=shop").status; });
  api_entered.wait();
  EXPECT_EQ(other.get(), 200);
  // The second either joined the first decision or, arriving after it, makes its own: never beside it.
  release.set_value();
  const auto first_answer = first.get();
  const auto second_answer = second.get();
  EXPECT_EQ(first_answer.status, 200);
  EXPECT_EQ(second_answer.status, 200);
  EXPECT_LE(web_entries.load(), 2);
}

// An extended policy: the model is sent the complete feature vector, built with the history of one step per
// interval — a request sooner than that is served from the last step and does not advance it.
TEST_F(SuggestionServerTest, HistoryAdvancesOncePerIntervalAndTheModelGetsTheWholeFeatureVector) {
  const core::FeatureSpec extended{core::FeatureSet::kExtended, 512.0 * 1024 * 1024};
  model_.policy = PolicyNeeds{.model_version = "ext", .features = extended, .needs_features = true};
  kubernetes_.deployments["shop/web"].ready_replicas = 1;  // two pods still starting
  core::FeatureBuilder expected(extended);
  std::vector<double> features;
  const auto ask = [&] {
    auto response = get("/suggest?deployment=web&namespace=shop");
    EXPECT_EQ(response.status, 200) << response.body;
    return nlohmann::json::parse(response.body);
  };

  prometheus_.cpu = 100;
  auto answer = ask();
  expected.build({100, 3e8, 3, 42, 120}, {2}, features);
  EXPECT_EQ(model_.seen_features, features);
  EXPECT_EQ(answer["step"], nlohmann::json({{"index", 1}, {"reused", false}}));
  EXPECT_EQ(answer["starting_replicas"], 2.0);
  EXPECT_EQ(answer["feature_set"], "extended");

  // 5 s later (a retry, a second caller): the same step again; Prometheus is not asked.
  clock_.advance(5s);
  prometheus_.cpu = 400;
  const int queries = prometheus_.cpu_queries;
  answer = ask();
  EXPECT_EQ(prometheus_.cpu_queries, queries);
  EXPECT_EQ(model_.seen_features, features);
  EXPECT_EQ(answer["step"], nlohmann::json({{"index", 1}, {"reused", true}}));
  EXPECT_EQ(answer["observation"]["cpu_usage"], 100.0);

  // One interval after the first: the next step, with the trend over one step.
  clock_.advance(10s);
  answer = ask();
  expected.build({400, 3e8, 3, 42, 120}, {2}, features);
  EXPECT_EQ(model_.seen_features, features);
  EXPECT_EQ(answer["step"], nlohmann::json({{"index", 2}, {"reused", false}}));

  // A little under an interval later (the controller's jitter): still the next step.
  clock_.advance(14s);
  prometheus_.cpu = 250;
  answer = ask();
  expected.build({250, 3e8, 3, 42, 120}, {2}, features);
  EXPECT_EQ(model_.seen_features, features);
  EXPECT_EQ(answer["step"]["index"], 3);

  // After long silence the history starts again.
  clock_.advance(10min);
  answer = ask();
  core::FeatureBuilder fresh(extended);
  fresh.build({250, 3e8, 3, 42, 120}, {2}, features);
  EXPECT_EQ(model_.seen_features, features);
  EXPECT_EQ(answer["step"]["index"], 1);
  EXPECT_NE(get("/metrics").body.find(R"(maestro_suggestion_steps_total{step="reused"} 1)"),
            std::string::npos);
}

TEST_F(SuggestionServerTest, AnOriginalPolicyIsAskedAfreshEveryTimeWithTheFiveFieldsOnly) {
  for (int i = 0; i < 3; ++i) {
    prometheus_.cpu = 100 + i;
    const auto answer = nlohmann::json::parse(get("/suggest?deployment=web&namespace=shop").body);
    EXPECT_EQ(answer["observation"]["cpu_usage"], 100.0 + i);
    EXPECT_EQ(answer["step"]["reused"], false);
    EXPECT_TRUE(model_.seen_features.empty());
    clock_.advance(1s);
  }
}

TEST_F(SuggestionServerTest, ANewFeatureSetStartsTheHistoryAgainAndSilentDeploymentsAreForgotten) {
  const core::FeatureSpec extended{core::FeatureSet::kExtended, 512.0 * 1024 * 1024};
  model_.policy = PolicyNeeds{.model_version = "ext", .features = extended, .needs_features = true};
  const auto index = [&](const std::string& deployment) {
    return nlohmann::json::parse(
               get(fmt::format("/suggest?deployment={}&namespace=shop", deployment)).body)["step"]["index"]
        .get<int>();
  };
  EXPECT_EQ(index("web"), 1);
  clock_.advance(15s);
  EXPECT_EQ(index("web"), 2);
  EXPECT_EQ(index("api"), 1);
  EXPECT_EQ(server_.deployments_remembered(), 2u);
  // The model now serves a policy with another memory limit: its features differ, so history starts again.
  model_.policy.features.memory_limit_bytes_per_pod *= 2;
  clock_.advance(15s);
  EXPECT_EQ(index("web"), 1);
  // api has not been asked for longer than forget_after: forgotten when web is next asked.
  clock_.advance(3min);
  EXPECT_EQ(index("web"), 1);
  EXPECT_EQ(server_.deployments_remembered(), 1u);
}

// Prometheus at 0.5 s per query, for every deployment.
class SlowPrometheus final : public prom::MetricsSource {
 public:
  std::atomic<int> web_queries{0};
  prom::QueryResult<std::vector<prom::Sample>> samples(std::string_view promql) override {
    if (!value(promql)) return std::vector<prom::Sample>{};
    return std::vector<prom::Sample>(5, prom::Sample{.labels = {}, .timestamp = 0, .value = 1});
  }
  prom::QueryResult<double> value(std::string_view promql) override {
    if (promql.find("\"web") != std::string_view::npos) ++web_queries;
    std::this_thread::sleep_for(500ms);  // the slowness being simulated, not a wait for a condition
    return 1.0;
  }
};

// Finding 6: requests whose clients have gone used to be worked through one by one (30 abandoned requests for
// web held a request for api for 31.8 s, where the controller gives up after 2 s). Now the abandoned ones
// share one decision, dropped once their deadline (X-Request-Timeout-Ms) has passed, and api is decided at
// once.
TEST(SuggestionServerLoad, AbandonedRequestsForOneDeploymentDoNotHoldUpAnother) {
  FakeKubernetes kubernetes;
  kubernetes.deployments["shop/web"] = DeploymentInfo{.replicas = 3, .ready_replicas = 3, .annotations = {}};
  kubernetes.deployments["shop/api"] = DeploymentInfo{.replicas = 2, .ready_replicas = 2, .annotations = {}};
  SlowPrometheus prometheus;
  prom::StateBuilder state_builder(prometheus);
  FakeModel model;
  base::ManualClock clock;
  SuggestionServer server(kubernetes, state_builder, model, clock);
  auto port = server.listen("127.0.0.1:0");
  ASSERT_TRUE(port.has_value());
  server.start();
  const auto client = [&](std::chrono::milliseconds timeout) {
    net::HttpClientOptions options;
    options.base_url = fmt::format("http://127.0.0.1:{}", *port);
    options.retry.max_attempts = 1;
    options.total_timeout = timeout;
    return std::make_unique<net::HttpClient>(options);
  };
  const net::Request web{.method = "GET",
                         .path = "/suggest?deployment=web&namespace=shop",
                         .headers = {{"X-Request-Timeout-Ms", "1000"}},
                         .body = "",
                         .total_timeout = std::nullopt,
                         .on_body = {},
                         .keep_going = {}};
  std::vector<std::future<void>> abandoned;
  for (int i = 0; i < 30; ++i)
    abandoned.push_back(std::async(std::launch::async, [&] { client(100ms)->send(web); }));
  for (auto& request : abandoned) request.get();  // every client has given up

  const auto started = std::chrono::steady_clock::now();
  auto api = client(5s)->get("/suggest?deployment=api&namespace=shop");
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print("api answered after {:.2f} s with {} abandoned requests for web; web queried {} times\n", took,
             30, prometheus.web_queries.load());
  ASSERT_TRUE(api.has_value()) << api.error().message;
  EXPECT_EQ(api->status, 200) << api->body;
  // One decision for all 30 (at most one round: pods reporting, then the four metrics), stopped once nobody
  // waited for it any more.
  EXPECT_LE(prometheus.web_queries.load(), 5);
}

// A bounded number of requests are admitted; the rest are told at once to come back (503, Retry-After), and a
// request whose deadline passes while its decision is still being made is answered 503 "deadline".
TEST(SuggestionServerLoad, RefusesBeyondMaxPendingAndAnswersPastTheDeadline) {
  FakeKubernetes kubernetes;
  for (const char* name : {"a", "b", "c"})
    kubernetes.deployments[fmt::format("shop/{}", name)] =
        DeploymentInfo{.replicas = 1, .ready_replicas = 1, .annotations = {}};
  std::promise<void> release;
  auto released = release.get_future().share();
  std::latch both_inside(2);
  kubernetes.on_get = [&](const std::string& key) {
    if (key == "shop/c") return;
    both_inside.count_down();
    released.wait();
  };
  FakePrometheus prometheus;
  prom::StateBuilder state_builder(prometheus);
  FakeModel model;
  base::ManualClock clock;
  SuggestionServerOptions options_with_room_for_two;
  options_with_room_for_two.max_pending = 2;
  SuggestionServer server(kubernetes, state_builder, model, clock, options_with_room_for_two);
  auto port = server.listen("127.0.0.1:0");
  ASSERT_TRUE(port.has_value());
  server.start();
  net::HttpClientOptions options;
  options.base_url = fmt::format("http://127.0.0.1:{}", *port);
  options.retry.max_attempts = 1;
  net::HttpClient client(options);
  const auto ask = [&](const std::string& deployment, const std::string& timeout_ms) {
    net::Request request{.method = "GET",
                         .path = fmt::format("/suggest?deployment={}&namespace=shop", deployment),
                         .headers = {},
                         .body = "",
                         .total_timeout = std::nullopt,
                         .on_body = {},
                         .keep_going = {}};
    if (!timeout_ms.empty()) request.headers.emplace_back(kRequestTimeoutHeader, timeout_ms);
    return client.send(request);
  };

  auto a = std::async(std::launch::async, [&] { return ask("a", "300"); });
  auto b = std::async(std::launch::async, [&] { return ask("b", ""); });
  both_inside.wait();  // two requests are in the server: it is full
  auto refused = ask("c", "");
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 503);
  EXPECT_NE(refused->body.find("\"cause\":\"overloaded\""), std::string::npos) << refused->body;
  EXPECT_EQ(refused->header("Retry-After"), "1");

  // a's caller gave it 300 ms: it is answered 503 "deadline" although its decision is still held up.
  const auto late = a.get();
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->status, 503);
  EXPECT_NE(late->body.find("\"cause\":\"deadline\""), std::string::npos) << late->body;
  release.set_value();
  EXPECT_EQ(b.get()->status, 200);
  EXPECT_EQ(ask("c", "")->status, 200);  // room again
  EXPECT_EQ(ask("c", "soon")->status, 400);
  EXPECT_EQ(ask("c", "0")->status, 400);
}

TEST(Coalescer, LaterCallersShareTheRunningWorkAndStopWaitingAtTheirDeadline) {
  Coalescer<int> calls;
  std::promise<void> release;
  auto released = release.get_future().share();
  std::latch started(1);
  std::atomic<int> runs{0};
  const auto far = std::chrono::steady_clock::now() + 60s;
  auto first = std::async(std::launch::async, [&] {
    return calls.run("web", far, [&](const Coalescer<int>::Flight&) {
      ++runs;
      started.count_down();
      released.wait();
      return 7;
    });
  });
  started.wait();
  // A caller whose deadline passes while it waits gives up; the work goes on, and its deadline moved later.
  const auto impatient = calls.run("web", std::chrono::steady_clock::now() + 50ms,
                                   [&](const Coalescer<int>::Flight&) { return ++runs, -1; });
  EXPECT_FALSE(impatient.value.has_value());
  auto second = std::async(std::launch::async, [&] {
    return calls.run("web", far, [&](const Coalescer<int>::Flight&) { return ++runs, -1; });
  });
  // Another key runs at once.
  EXPECT_EQ(calls.run("api", far, [](const Coalescer<int>::Flight&) { return 3; }).value, 3);
  release.set_value();
  const auto led = first.get();
  EXPECT_EQ(led.value, 7);
  EXPECT_FALSE(led.joined);
  const auto joined = second.get();
  ASSERT_TRUE(joined.value.has_value());
  // The second arrived while the first ran (joined, 7) or just after it ended (its own work, -1).
  EXPECT_EQ(*joined.value, joined.joined ? 7 : -1);
  EXPECT_EQ(runs.load(), joined.joined ? 1 : 2);
  EXPECT_EQ(calls.size(), 0u);
}

// A caller stops waiting at its deadline; the work goes on, sees that nobody waits for it any more, and is
// waited for by drain().
TEST(Coalescer, WorkSeesWhenEveryCallersDeadlineHasPassed) {
  Coalescer<bool> calls;
  std::atomic<bool> abandoned_at_start{true}, saw_abandoned{false};
  std::promise<void> release;
  auto released = release.get_future().share();
  const auto outcome =
      // Long enough for the work's thread to start before it on a loaded machine (TSan, 2 shared cores: 20 ms
      // was not).
      calls.run("web", std::chrono::steady_clock::now() + 500ms, [&](const Coalescer<bool>::Flight& flight) {
        abandoned_at_start = flight.abandoned();
        released.wait();
        saw_abandoned = flight.abandoned();
        return true;
      });
  EXPECT_FALSE(outcome.value.has_value());  // the caller gave up at its deadline, the work still running
  release.set_value();
  calls.drain();
  EXPECT_FALSE(abandoned_at_start.load());
  EXPECT_TRUE(saw_abandoned.load());
  EXPECT_EQ(calls.size(), 0u);
}

TEST(ParseModelAnswer, AcceptsOnlyAWellFormedAction) {
  const std::string meaning =
      R"("action_name":"scale_down","action_set":"original","replica_change":{"kind":"pods","amount":-1},)"
      R"("replicas":3,"desired_replicas":2)";
  auto answer = parse_model_answer(
      fmt::format(R"({{"action":0,"probabilities":[0.8,0.1,0.1],"model_version":"v",{}}})", meaning));
  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  EXPECT_EQ(answer->action, 0);
  EXPECT_EQ(answer->action_name, "scale_down");
  EXPECT_EQ(answer->replica_change, (core::ReplicaChange{core::ReplicaChange::Kind::kPods, -1}));
  EXPECT_EQ(answer->replicas, 3);
  EXPECT_EQ(answer->desired_replicas, 2);
  EXPECT_DOUBLE_EQ(answer->probabilities[0], 0.8);
  EXPECT_EQ(answer->model_version, "v");
  EXPECT_TRUE(parse_model_answer(fmt::format(R"({{"action":7,{}}})", meaning)).has_value());  // larger sets
  EXPECT_FALSE(parse_model_answer(fmt::format(R"({{"action":-1,{}}})", meaning)).has_value());
  EXPECT_FALSE(parse_model_answer(fmt::format(R"({{"action":"1",{}}})", meaning)).has_value());
  EXPECT_FALSE(parse_model_answer(fmt::format(R"({{"action":1.5,{}}})", meaning)).has_value());
  EXPECT_FALSE(parse_model_answer(R"({"action":1})").has_value());  // no meaning
  EXPECT_FALSE(parse_model_answer(
      R"({"action":0,"action_name":"x","action_set":"s","replica_change":{"kind":"nodes","amount":1},"replicas":3,"desired_replicas":2})"));
  // A utilisation target must come resolved into pods: nobody downstream knows the CPU to resolve it.
  EXPECT_FALSE(parse_model_answer(
      R"({"action":4,"action_name":"target-60%","action_set":"targets","replica_change":{"kind":"utilisation","amount":60},"replicas":3,"desired_replicas":5})"));
  EXPECT_FALSE(parse_model_answer(R"({})").has_value());
  EXPECT_FALSE(parse_model_answer("[]").has_value());
  EXPECT_FALSE(parse_model_answer("").has_value());
}

TEST(ParsePolicyNeeds, ReadsTheFeatureSetAndWhetherFeaturesMustBeSent) {
  auto needs = parse_policy_needs(
      R"({"model_version":"v","feature_set":"extended","feature_count":13,"needs_features":true,)"
      R"("memory_limit_bytes_per_pod":1024,"action_set":{"name":"original","actions":[]}})");
  ASSERT_TRUE(needs.has_value()) << needs.error().message;
  EXPECT_EQ(needs->features.set, core::FeatureSet::kExtended);
  EXPECT_EQ(needs->features.memory_limit_bytes_per_pod, 1024);
  EXPECT_TRUE(needs->needs_features);
  EXPECT_FALSE(parse_policy_needs(R"({"model_version":"v","feature_set":"future","needs_features":true,)"
                                  R"("memory_limit_bytes_per_pod":1024})"));
  EXPECT_FALSE(parse_policy_needs(R"({"model_version":"v","feature_set":"original"})"));
}

TEST(ConstraintsFromAnnotations, ReadsBothOrNeither) {
  EXPECT_FALSE(constraints_from_annotations({})->set());
  auto both =
      constraints_from_annotations({{"latencySoftConstraint", "100"}, {"latencyHardConstraint", "250.5"}});
  ASSERT_TRUE(both.has_value());
  EXPECT_DOUBLE_EQ(*both->hard_ms, 250.5);
  EXPECT_FALSE(constraints_from_annotations({{"latencySoftConstraint", "100"}}).has_value());
  EXPECT_FALSE(
      constraints_from_annotations({{"latencySoftConstraint", "1e3x"}, {"latencyHardConstraint", "2"}}));
}

}  // namespace
}  // namespace maestro::suggestion_server
