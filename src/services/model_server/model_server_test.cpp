// Tests of the model server with policies of its own making (a file "VERSION ACTION" answers ACTION):
// /predict, readiness, metrics, and reloads on change, on SIGHUP and under load without dropping a request.
#include "services/model_server/model_server.hpp"

#include <atomic>
#include <csignal>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "net/http_client.hpp"

namespace maestro::model_server {
namespace {

using namespace std::chrono_literals;

class FixedPolicy final : public ServedPolicy {
 public:
  FixedPolicy(std::string version, core::Action action) : version_(std::move(version)), action_(action) {}
  PolicyAnswer predict(const core::Observation&) const override {
    PolicyAnswer answer{.action = action_, .probabilities = {}};
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
    auto port = server_->listen("127.0.0.1:0");
    ASSERT_TRUE(port.has_value());
    server_->start();
    net::HttpClientOptions options;
    options.base_url = fmt::format("http://127.0.0.1:{}", *port);
    options.retry.max_attempts = 1;
    client_ = std::make_unique<net::HttpClient>(options);
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
  EXPECT_EQ(client_->get("/predict")->status, 405);
  EXPECT_EQ(client_->get("/healthz")->status, 200);
  EXPECT_EQ(predict()["action"], 1);
  EXPECT_NE(metrics().find(R"(http_requests_total{code="400",handler="/predict",method="POST"} 7)"),
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

}  // namespace
}  // namespace maestro::model_server
