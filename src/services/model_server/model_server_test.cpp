// Tests of the model server with policies of its own making (a file "VERSION ACTION" answers ACTION):
// /predict, readiness, metrics, and reloads on change, on SIGHUP and under load without dropping a request.
#include "services/model_server/model_server.hpp"

#include <atomic>
#include <csignal>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <nlohmann/json.hpp>

#include "core/action.hpp"
#include "core/action_set.hpp"
#include "net/http_client.hpp"
#include "nn/policy_file.hpp"
#include "services/model_server/nn_policy.hpp"

namespace maestro::model_server {
namespace {

using namespace std::chrono_literals;

class FixedPolicy final : public ServedPolicy {
 public:
  FixedPolicy(std::string version, core::Action action) : version_(std::move(version)), action_(action) {}
  Result<PolicyAnswer> predict(const PredictRequest&) const override {
    PolicyAnswer answer{.action = static_cast<int>(action_), .probabilities = std::vector<double>(3)};
    answer.probabilities[static_cast<std::size_t>(action_)] = 1;
    return answer;
  }
  const std::string& version() const override { return version_; }

 private:
  std::string version_;
  core::Action action_;
};

Result<std::shared_ptr<const ServedPolicy>> load_fixed(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string version;
  int code = -1;
  if (!(in >> version >> code)) return fail("not a fixed policy file");
  const auto action = core::action_from_code(code);
  if (!action) return fail("action {} is not 0, 1 or 2", code);
  return std::make_shared<FixedPolicy>(version, *action);
}

// Written to a new file and renamed over the old one, as a deployment tool would.
void write_policy(const std::filesystem::path& file, const std::string& text) {
  const auto temporary = file.string() + ".new";
  std::ofstream(temporary) << text;
  std::filesystem::rename(temporary, file);
}

// Starts `server` on a loopback port; a client of it that does not retry.
std::unique_ptr<net::HttpClient> listen(ModelServer& server) {
  auto port = server.listen("127.0.0.1:0");
  EXPECT_TRUE(port.has_value());
  server.start();
  net::HttpClientOptions options;
  options.base_url = fmt::format("http://127.0.0.1:{}", port.value_or(0));
  options.retry.max_attempts = 1;
  return std::make_unique<net::HttpClient>(options);
}

constexpr const char* kObservation =
    R"({"cpu_usage":150,"memory_usage":3e8,"replicas":3,"latency":12.5,"rps":100})";

class ModelServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 fmt::format("maestro-model-server-{}-{}", ::getpid(),
                             ::testing::UnitTest::GetInstance()->random_seed());
    std::filesystem::create_directories(directory_);
    policy_ = directory_ / "policy.txt";
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(directory_);
  }

  void start(std::optional<std::chrono::milliseconds> watch = 50ms, bool load = true) {
    server_ = std::make_unique<ModelServer>(ModelServerOptions{.policy_file = policy_,
                                                               .loader = load_fixed,
                                                               .http = {.max_body_bytes = 4096},
                                                               .watch_interval = watch});
    if (load) {
      ASSERT_TRUE(server_->load().has_value());
    }
    client_ = listen(*server_);
  }

  nlohmann::json predict() {
    auto response = client_->post("/predict", kObservation);
    EXPECT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200) << response->body;
    return nlohmann::json::parse(response->body);
  }

  // Polls /predict until the model version is `version`, with a deadline.
  bool serves(const std::string& version, std::chrono::seconds deadline = 10s) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
      auto response = client_->post("/predict", kObservation);
      if (response && response->status == 200 &&
          nlohmann::json::parse(response->body)["model_version"] == version)
        return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  std::string metrics() { return client_->get("/metrics")->body; }

  std::filesystem::path directory_;
  std::filesystem::path policy_;
  std::unique_ptr<ModelServer> server_;
  std::unique_ptr<net::HttpClient> client_;
};

TEST_F(ModelServerTest, PredictAnswersThePolicysActionWithVersionAndProbabilities) {
  write_policy(policy_, "v1 2");
  start();
  const auto answer = predict();
  EXPECT_EQ(answer["action"], 2);
  EXPECT_EQ(answer["action_name"], "scale_up");
  EXPECT_EQ(answer["model_version"], "v1");
  EXPECT_EQ(answer["probabilities"], nlohmann::json::array({0.0, 0.0, 1.0}));
  // What the action means, for the replicas it was decided for.
  EXPECT_EQ(answer["action_set"], "original");
  EXPECT_EQ(answer["replica_change"], nlohmann::json({{"kind", "pods"}, {"amount", 1.0}}));
  EXPECT_EQ(answer["replicas"], 3);
  EXPECT_EQ(answer["desired_replicas"], 4);
  EXPECT_EQ(client_->get("/readyz")->status, 200);
  const std::string text = metrics();
  EXPECT_NE(text.find(R"(maestro_model_actions_total{action="scale_up"} 1)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(maestro_model_policy_info{version="v1"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(http_requests_total{code="200",handler="/predict",method="POST"} 1)"),
            std::string::npos);
}

TEST_F(ModelServerTest, BadRequestsAre4xxAndTheServerStaysHealthy) {
  write_policy(policy_, "v1 1");
  start();
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"{", "body is not valid JSON"},
      {R"({"cpu_usage":1,"memory_usage":1,"replicas":1,"latency":1})", "missing field 'rps'"},
      {R"({"cpu_usage":"x","memory_usage":1,"replicas":1,"latency":1,"rps":1})",
       "field 'cpu_usage' must be a number"},
      {R"({"cpu_usage":1,"memory_usage":1,"replicas":1,"latency":1,"rps":1,"extra":1})",
       "unknown field 'extra'"},
      {R"({"cpu_usage":1,"memory_usage":-1,"replicas":1,"latency":1,"rps":1})", "memory_usage is negative"},
      {R"({"cpu_usage":1,"memory_usage":1,"replicas":1,"latency":1e400,"rps":1})",
       "field 'latency' is infinite"},
      {R"({"cpu_usage":1,"memory_usage":1,"replicas":NaN,"latency":1,"rps":1})", "field 'replicas' is NaN"},
  };
  for (const auto& [body, message] : bad) {
    auto response = client_->post("/predict", body);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 400) << body;
    EXPECT_NE(nlohmann::json::parse(response->body)["error"].get<std::string>().find(message),
              std::string::npos)
        << response->body;
  }
  EXPECT_EQ(client_->post("/predict", std::string(5000, ' '))->status, 413);
  // Only a JSON body is read as one (415 otherwise), a field given twice is ambiguous, and replicas are a
  // whole number of pods.
  for (const std::string content_type : {"text/plain", "application/x-www-form-urlencoded", ""}) {
    net::Request form{.method = "POST",
                      .path = "/predict",
                      .headers = {{"Content-Type", content_type}},
                      .body = kObservation,
                      .total_timeout = std::nullopt,
                      .on_body = {},
                      .keep_going = {}};
    auto refused = client_->send(form);
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->status, 415) << content_type;
  }
  EXPECT_EQ(client_->post("/predict", kObservation, "Application/JSON; charset=utf-8")->status, 200);
  const std::vector<std::pair<std::string, std::string>> ambiguous = {
      {R"({"cpu_usage":1,"memory_usage":1,"replicas":1,"latency":1,"rps":1,"rps":2})", "field 'rps'"},
      {R"({"cpu_usage":1,"memory_usage":1,"replicas":1e300,"latency":1,"rps":1})", "field 'replicas'"},
      {R"({"cpu_usage":1,"memory_usage":1,"replicas":2.5,"latency":1,"rps":1})", "field 'replicas'"}};
  for (const auto& [body, field] : ambiguous) {
    auto response = client_->post("/predict", body);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 400) << body;
    EXPECT_NE(response->body.find(field), std::string::npos) << response->body;
  }
  EXPECT_EQ(client_->get("/predict")->status, 405);
  EXPECT_EQ(client_->get("/healthz")->status, 200);
  EXPECT_EQ(predict()["action"], 1);
  EXPECT_NE(metrics().find(R"(http_requests_total{code="400",handler="/predict",method="POST"} 10)"),
            std::string::npos);
}

TEST_F(ModelServerTest, NotReadyAndNoActionsWithoutAPolicy) {
  write_policy(policy_, "garbage");
  start(50ms, /*load=*/false);
  ModelServer& server = *server_;
  EXPECT_FALSE(server.load().has_value());
  EXPECT_EQ(client_->get("/readyz")->status, 503);
  auto response = client_->post("/predict", kObservation);
  EXPECT_EQ(response->status, 503);
  // A good file appearing makes it ready.
  write_policy(policy_, "v2 0");
  EXPECT_TRUE(serves("v2"));
  EXPECT_EQ(client_->get("/readyz")->status, 200);
}

TEST_F(ModelServerTest, ReloadsWhenTheFileChangesAndRefusesABadOne) {
  write_policy(policy_, "v1 1");
  start();
  write_policy(policy_, "v2 2");
  ASSERT_TRUE(serves("v2"));
  EXPECT_EQ(predict()["action"], 2);

  write_policy(policy_, "v3 7");  // action 7 does not exist: refused
  // The watcher has seen it once the failure is counted; the old policy is still served.
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (metrics().find(R"(maestro_model_policy_reloads_total{result="failure"} 1)") == std::string::npos &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  EXPECT_NE(metrics().find(R"(maestro_model_policy_reloads_total{result="failure"} 1)"), std::string::npos);
  EXPECT_EQ(predict()["model_version"], "v2");
  const std::string text = metrics();
  EXPECT_NE(text.find(R"(maestro_model_policy_info{version="v2"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(maestro_model_policy_info{version="v1"} 0)"), std::string::npos);
}

TEST_F(ModelServerTest, ReloadsOnSighup) {
  write_policy(policy_, "v1 1");
  start(std::nullopt);  // no watching: only the signal reloads
  std::ofstream(policy_) << "v5 0";
  EXPECT_EQ(predict()["model_version"], "v1");
  std::raise(SIGHUP);
  EXPECT_TRUE(serves("v5"));
}

TEST_F(ModelServerTest, NoRequestIsDroppedWhileThePolicyIsReloaded) {
  write_policy(policy_, "v0 1");
  start(10ms);
  std::atomic<bool> done{false};
  std::atomic<int> answered{0}, failed{0};
  std::thread client([&] {
    net::HttpClientOptions options = client_->options();
    net::HttpClient own(options);
    while (!done) {
      auto response = own.post("/predict", kObservation);
      if (response && response->status == 200)
        ++answered;
      else
        ++failed;
    }
  });
  for (int version = 1; version <= 20; ++version) {
    write_policy(policy_, fmt::format("v{} {}", version, version % 3));
    ASSERT_TRUE(serves(fmt::format("v{}", version)));
  }
  done = true;
  client.join();
  EXPECT_GT(answered.load(), 0);
  EXPECT_EQ(failed.load(), 0);
}

TEST_F(ModelServerTest, PolicyDescribesWhatARequestMustCarryAndWhatActionsMean) {
  write_policy(policy_, "v1 1");
  start();
  auto response = client_->get("/policy");
  ASSERT_EQ(response->status, 200) << response->body;
  const auto policy = nlohmann::json::parse(response->body);
  EXPECT_EQ(policy["model_version"], "v1");
  EXPECT_EQ(policy["feature_set"], "original");
  EXPECT_EQ(policy["feature_count"], 5);
  EXPECT_EQ(policy["needs_features"], false);
  EXPECT_EQ(policy["action_set"]["name"], "original");
  ASSERT_EQ(policy["action_set"]["actions"].size(), 3u);
  EXPECT_EQ(policy["action_set"]["actions"][0],
            nlohmann::json({{"action", 0},
                            {"action_name", "scale_down"},
                            {"replica_change", {{"kind", "pods"}, {"amount", -1.0}}}}));
}

// Policy files served through nn::Policy: an extended policy is never answered without its features.
class PolicyFileServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ =
        std::filesystem::path(::testing::TempDir()) / fmt::format("maestro-model-file-{}", ::getpid());
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(directory_);
  }
  void serve(core::FeatureSet set, const core::ActionSet& actions = core::original_action_set()) {
    const auto file = directory_ / "policy.bin";
    ASSERT_TRUE(nn::write_policy_file(
        file, nn::untrained_autoscaling_policy({set, 512.0 * 1024 * 1024}, 5, actions)));
    server_ = std::make_unique<ModelServer>(ModelServerOptions{
        .policy_file = file, .loader = load_policy_file, .http = {}, .watch_interval = std::nullopt});
    ASSERT_TRUE(server_->load().has_value());
    client_ = listen(*server_);
  }
  // The status and the error (or "") of POST /predict with `body`.
  std::pair<long, std::string> post(const std::string& body) {
    auto response = client_->post("/predict", body);
    EXPECT_TRUE(response.has_value());
    const auto json = nlohmann::json::parse(response->body);
    return {response->status, json.contains("error") ? json["error"].get<std::string>() : ""};
  }

  std::filesystem::path directory_;
  std::unique_ptr<ModelServer> server_;
  std::unique_ptr<net::HttpClient> client_;
};

constexpr const char* kFields =
    R"("cpu_usage":150,"memory_usage":134217728,"replicas":2,"latency":100,"rps":50)";
// Built by core::FeatureBuilder from kFields after one earlier step of {100, 1e8, 2, 50, 30} and 1 pod
// starting.
constexpr const char* kExtendedFeatures =
    "[150,0.125,2,100,50,1,75,25,0.6666666666666666,0.6666666666666666,50,32.5,100]";

TEST_F(PolicyFileServerTest, AnExtendedPolicyRefusesEveryRequestWithoutItsFeaturesNamingWhatIsMissing) {
  serve(core::FeatureSet::kExtended);
  const auto policy = nlohmann::json::parse(client_->get("/policy")->body);
  EXPECT_EQ(policy["feature_set"], "extended");
  EXPECT_EQ(policy["feature_count"], 13);
  EXPECT_EQ(policy["needs_features"], true);

  const std::vector<std::pair<std::string, std::string>> refused = {
      {fmt::format("{{{}}}", kFields), "missing field 'features'"},
      {fmt::format(R"({{{},"features":[150,0.125,2,100,50]}})", kFields),
       "field 'features' has 5 numbers but feature set 'extended' has 13"},
      {fmt::format(R"({{{},"features":[150,0.125,2,100,50,1,75,25,0.6,NaN,50,32.5,100]}})", kFields),
       "field 'features': features[9] is NaN"},
      {fmt::format(R"({{{},"features":[150,0.125,2,100,50,1,75,25,0.6,0.6,1e999,32.5,100]}})", kFields),
       "field 'features': features[10] is infinite"},
      {fmt::format(R"({{{},"features":[150,0.125,3,100,50,1,75,25,0.6,0.6,50,32.5,100]}})", kFields),
       "field 'features': features[2] is 3 but replicas makes it 2"},
      {fmt::format(R"({{{},"features":[150,0.5,2,100,50,1,75,25,0.6,0.6,50,32.5,100]}})", kFields),
       "field 'features': features[1] is 0.5 but memory_usage makes it 0.125"},
      {fmt::format(R"({{{},"features":"all"}})", kFields), "field 'features' must be an array of numbers"},
      {fmt::format(R"({{{},"features":[150,0.125,2,100,50,null,75,25,0.6,0.6,50,32.5,100]}})", kFields),
       "field 'features': features[5] must be a number, got null"},
  };
  for (const auto& [body, message] : refused) {
    const auto [status, error] = post(body);
    EXPECT_EQ(status, 400) << body;
    EXPECT_NE(error.find(message), std::string::npos) << error;
  }
  const auto [status, error] = post(fmt::format(R"({{{},"features":{}}})", kFields, kExtendedFeatures));
  EXPECT_EQ(status, 200) << error;
}

// A policy of utilisation targets is never answered without the pods' CPU request, and answers the pods its
// target comes to for the replicas and CPU of the request.
TEST_F(PolicyFileServerTest, ATargetsPolicyNeedsTheCpuRequestAndAnswersInPods) {
  serve(core::FeatureSet::kOriginal, core::targets_action_set());
  const auto policy = nlohmann::json::parse(client_->get("/policy")->body);
  EXPECT_EQ(policy["needs_cpu_request"], true);
  EXPECT_EQ(policy["action_set"]["actions"][4]["replica_change"],
            nlohmann::json({{"kind", "utilisation"}, {"amount", 60.0}}));

  const std::vector<std::pair<std::string, std::string>> refused = {
      {fmt::format("{{{}}}", kFields), "field 'cpu_request_cores' is missing"},
      {fmt::format(R"({{{},"cpu_request_cores":0}})", kFields), "above 0"},
      {fmt::format(R"({{{},"cpu_request_cores":-1}})", kFields), "above 0"},
      {fmt::format(R"({{{},"cpu_request_cores":"250m"}})", kFields),
       "field 'cpu_request_cores' must be a number, got string"},
      {fmt::format(R"({{{},"cpu_request_cores":NaN}})", kFields), "field 'cpu_request_cores' is NaN"},
  };
  for (const auto& [body, message] : refused) {
    const auto [status, error] = post(body);
    EXPECT_EQ(status, 400) << body;
    EXPECT_NE(error.find(message), std::string::npos) << error;
  }
  auto response = client_->post("/predict", fmt::format(R"({{{},"cpu_request_cores":0.25}})", kFields));
  ASSERT_EQ(response->status, 200) << response->body;
  const auto answer = nlohmann::json::parse(response->body);
  const auto action = answer["action"].get<int>();
  const int desired = *core::replicas_after(core::targets_action_set(), action, 2, core::CpuBasis{150, 0.25});
  EXPECT_EQ(answer["desired_replicas"], desired);
  EXPECT_EQ(answer["replica_change"], nlohmann::json({{"kind", "pods"}, {"amount", desired - 2}}));
}

TEST_F(PolicyFileServerTest, AnOriginalPolicyAnswersTheFiveFieldsAsTheSeedDid) {
  serve(core::FeatureSet::kOriginal);
  const auto policy = nlohmann::json::parse(client_->get("/policy")->body);
  EXPECT_EQ(policy["needs_features"], false);
  auto response = client_->post("/predict", fmt::format("{{{}}}", kFields));
  ASSERT_EQ(response->status, 200) << response->body;
  const auto answer = nlohmann::json::parse(response->body);
  for (const char* field : {"action", "action_name", "probabilities", "model_version"})
    EXPECT_TRUE(answer.contains(field)) << field;
  // The same with its five features, and refused with features that are not the five fields'.
  const auto with =
      client_->post("/predict", fmt::format(R"({{{},"features":[150,0.125,2,100,50]}})", kFields));
  EXPECT_EQ(nlohmann::json::parse(with->body)["action"], answer["action"]);
  EXPECT_EQ(post(fmt::format(R"({{{},"features":[150,0.125,2,100,51]}})", kFields)).first, 400);
}

// The answer's text reads back as the JSON document clients and docs/api.md know, every probability the
// very double answered and a float even when whole (1.0): whole, tiny and ordinary probabilities, any action
// of any set (a utilisation target answered as the pods it comes to), a version that needs escaping. (Numbers
// are the shortest text that reads back, which nlohmann's grisu2 is not always: it prints 0.007216339 as
// 0.0072163389999999996.)
RC_GTEST_PROP(PredictionJson, ReadsBackAsTheAnswer, ()) {
  const core::ActionSet actions =
      *rc::gen::element(core::original_action_set(), core::multi_action_set(), core::targets_action_set());
  const std::string version = *rc::gen::element<std::string>("v1", "ab70bbc0f83bb3c9", "a \"b\"\\\n\x7f");
  const auto probability =
      rc::gen::oneOf(rc::gen::element(0.0, 1.0, 1e-5, 1e-4, 0.5, 2.5e-300),
                     rc::gen::map(rc::gen::inRange(0, 1'000'000'000), [](int n) { return n / 1e9; }));
  const PolicyAnswer answer{.action = *rc::gen::inRange(0, actions.size()),
                            .probabilities = *rc::gen::container<std::vector<double>>(
                                static_cast<std::size_t>(actions.size()), probability)};
  const double replicas = *rc::gen::inRange(0, 2000);
  const core::CpuBasis cpu{.usage_percent = *rc::gen::inRange(0, 200'000) / 1.0,
                           .request_cores = *rc::gen::element(0.1, 0.25, 1.0, 2.0)};
  const auto& meant = actions.changes[static_cast<std::size_t>(answer.action)];
  const int desired = *core::replicas_after(meant, static_cast<int>(replicas), cpu);
  const core::ReplicaChange change =
      meant.kind == core::ReplicaChange::Kind::kUtilisation
          ? core::ReplicaChange{core::ReplicaChange::Kind::kPods,
                                static_cast<double>(desired - static_cast<int>(replicas))}
          : meant;
  const nlohmann::json expected = {
      {"action", answer.action},
      {"action_name", actions.names[static_cast<std::size_t>(answer.action)]},
      {"probabilities", answer.probabilities},
      {"model_version", version},
      {"action_set", actions.name},
      {"replica_change", {{"kind", core::replica_change_kind_name(change.kind)}, {"amount", change.amount}}},
      {"replicas", static_cast<int>(replicas)},
      {"desired_replicas", desired}};
  std::string text = "left from an earlier answer";
  PredictionJson(actions, version).write(answer, replicas, cpu, text);
  const auto written = nlohmann::json::parse(text);
  RC_ASSERT(written == expected);
  for (const auto& probability : written["probabilities"]) RC_ASSERT(probability.is_number_float());
  RC_ASSERT(written.dump() == expected.dump());  // the same keys, in the same order
}

}  // namespace
}  // namespace maestro::model_server
