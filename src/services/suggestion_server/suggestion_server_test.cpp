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
  prom::QueryResult<double> value(std::string_view promql) override {
    if (promql.find("container_cpu") != std::string_view::npos) return 150.0;
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
  std::optional<core::Observation> seen;
  Result<ModelAnswer> predict(const core::Observation& observation) override {
    if (!up) return fail("model server unreachable: connection refused");
    seen = observation;
    return ModelAnswer{
        .action = core::Action::kScaleUp, .probabilities = {0.1, 0.2, 0.7}, .model_version = "abc"};
  }
};

class SuggestionServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kubernetes_.deployments["shop/web"] = DeploymentInfo{
        .replicas = 3, .annotations = {{"latencySoftConstraint", "50"}, {"latencyHardConstraint", "200"}}};
    kubernetes_.deployments["shop/api"] = DeploymentInfo{.replicas = 2, .annotations = {}};
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
  SuggestionServer server_{kubernetes_, state_builder_, model_};
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
  }
  ASSERT_TRUE(model_.seen.has_value());
  EXPECT_DOUBLE_EQ(model_.seen->replicas, 3);
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

TEST_F(SuggestionServerTest, RequestsForOneDeploymentAreServedOneAtATime) {
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
  auto first =
      std::async(std::launch::async, [&] { return get("/suggest?deployment=web&namespace=shop").status; });
  web_entered.wait();
  auto second =
      std::async(std::launch::async, [&] { return get("/suggest?deployment=web&namespace=shop").status; });
  // Another deployment is not held up by web's decision.
  auto other =
      std::async(std::launch::async, [&] { return get("/suggest?deployment=api&namespace=shop").status; });
  api_entered.wait();
  EXPECT_EQ(other.get(), 200);
  EXPECT_EQ(second.wait_for(200ms), std::future_status::timeout);  // still waiting for the first
  EXPECT_EQ(web_entries.load(), 1);
  release.set_value();
  EXPECT_EQ(first.get(), 200);
  EXPECT_EQ(second.get(), 200);
  EXPECT_EQ(web_entries.load(), 2);
}

TEST(KeyedMutex, DropsEntriesWhenNobodyHoldsThem) {
  KeyedMutex locks;
  {
    auto a = locks.lock("a");
    auto b = locks.lock("b");
    EXPECT_EQ(locks.size(), 2u);
  }
  EXPECT_EQ(locks.size(), 0u);
}

TEST(ParseModelAnswer, AcceptsOnlyAWellFormedAction) {
  auto answer = parse_model_answer(R"({"action":0,"probabilities":[0.8,0.1,0.1],"model_version":"v"})");
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->action, core::Action::kScaleDown);
  EXPECT_DOUBLE_EQ(answer->probabilities[0], 0.8);
  EXPECT_EQ(answer->model_version, "v");
  EXPECT_FALSE(parse_model_answer(R"({"action":3})").has_value());
  EXPECT_FALSE(parse_model_answer(R"({"action":"1"})").has_value());
  EXPECT_FALSE(parse_model_answer(R"({"action":1.5})").has_value());
  EXPECT_FALSE(parse_model_answer(R"({})").has_value());
  EXPECT_FALSE(parse_model_answer("[]").has_value());
  EXPECT_FALSE(parse_model_answer("").has_value());
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
