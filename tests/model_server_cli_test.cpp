// `maestro serve model` as a process on real policy files (`maestro policy init`): /predict answers the
// policy's action and version; bad input of every kind is 4xx and leaves it healthy; a changed file is
// served without dropping a request, a bad one refused, SIGHUP reloads, SIGTERM finishes and exits 0.
#include <sys/wait.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "net/http_client.hpp"
#include "support/target_app_process.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;

const std::string kMaestro = std::string(MAESTRO_BINARY_DIR) + "/maestro";
constexpr const char* kObservation =
    R"({"cpu_usage":150,"memory_usage":300000000,"replicas":3,"latency":12.5,"rps":100})";

class ModelServerCli : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() / fmt::format("maestro-model-cli-{}", ::getpid());
    std::filesystem::create_directories(directory_);
    policy_ = directory_ / "policy.maestro";
    for (int seed : {1, 2}) {
      auto init = testing::ChildProcess::spawn({kMaestro, "policy", "init", "--out",
                                                (directory_ / fmt::format("seed{}.maestro", seed)).string(),
                                                "--seed", std::to_string(seed)});
      ASSERT_TRUE(init.has_value());
      ASSERT_EQ(init->wait(30s).value_or(-1), 0);
    }
    std::filesystem::copy_file(directory_ / "seed1.maestro", policy_);

    auto server = testing::ChildProcess::spawn({kMaestro, "serve", "model", "--policy", policy_.string(),
                                                "--listen", "127.0.0.1:0", "--watch-interval-ms", "50"},
                                               (directory_ / "server.log").string());
    ASSERT_TRUE(server.has_value());
    server_ = std::move(*server);
    const auto port = testing::read_listening_port(server_);
    ASSERT_TRUE(port.has_value()) << "maestro serve model did not start";
    net::HttpClientOptions options;
    options.base_url = fmt::format("http://127.0.0.1:{}", *port);
    options.retry.max_attempts = 1;
    client_ = std::make_unique<net::HttpClient>(options);
  }
  void TearDown() override {
    server_.stop();
    std::filesystem::remove_all(directory_);
  }

  std::string version() {
    auto response = client_->post("/predict", kObservation);
    if (!response || response->status != 200) return "";
    return nlohmann::json::parse(response->body)["model_version"].get<std::string>();
  }
  bool serves_other_than(const std::string& old_version) {
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < until) {
      const std::string now = version();
      if (!now.empty() && now != old_version) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  // Replaces the policy file the way deployment tools do: write beside it, rename over it.
  void install(const std::filesystem::path& from) {
    std::filesystem::copy_file(from, directory_ / "incoming",
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::rename(directory_ / "incoming", policy_);
  }

  std::filesystem::path directory_;
  std::filesystem::path policy_;
  testing::ChildProcess server_;
  std::unique_ptr<net::HttpClient> client_;
};

TEST_F(ModelServerCli, PredictsAndRefusesBadInputStayingHealthy) {
  auto answer = client_->post("/predict", kObservation);
  ASSERT_TRUE(answer.has_value());
  ASSERT_EQ(answer->status, 200) << answer->body;
  const auto json = nlohmann::json::parse(answer->body);
  EXPECT_TRUE(json["action"] == 0 || json["action"] == 1 || json["action"] == 2);
  EXPECT_EQ(json["model_version"].get<std::string>().size(), 16u);
  double total = 0;
  for (const auto& p : json["probabilities"]) total += p.get<double>();
  EXPECT_NEAR(total, 1.0, 1e-6);
  EXPECT_EQ(client_->get("/readyz")->status, 200);

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "not valid JSON"},
      {"{\"cpu_usage\": 1", "not valid JSON"},
      {"[]", "JSON object"},
      {R"({"cpu_usage":1,"memory_usage":1,"replicas":1,"latency":1})", "missing field 'rps'"},
      {R"({"cpu_usage":1,"memory_usage":1,"replicas":1,"latency":1,"rps":1,"gpu":1})", "unknown field 'gpu'"},
      {R"({"cpu_usage":[1],"memory_usage":1,"replicas":1,"latency":1,"rps":1})",
       "field 'cpu_usage' must be a number"},
      {R"({"cpu_usage":1,"memory_usage":1,"replicas":NaN,"latency":1,"rps":1})", "field 'replicas' is NaN"},
      {R"({"cpu_usage":1,"memory_usage":1,"replicas":1,"latency":Infinity,"rps":1})",
       "field 'latency' is infinite"},
      {R"({"cpu_usage":1,"memory_usage":1,"replicas":1,"latency":1,"rps":-3})", "rps is negative"},
  };
  for (const auto& [body, message] : bad) {
    auto response = client_->post("/predict", body);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 400) << body;
    EXPECT_NE(response->body.find(message), std::string::npos) << body << " → " << response->body;
  }
  auto huge = client_->post("/predict", std::string(1 << 20, '{'));
  ASSERT_TRUE(huge.has_value());
  EXPECT_EQ(huge->status, 413);
  EXPECT_EQ(client_->get("/predict")->status, 405);
  EXPECT_EQ(client_->get("/nowhere")->status, 404);
  EXPECT_EQ(client_->get("/healthz")->status, 200);
  EXPECT_EQ(client_->post("/predict", kObservation)->status, 200);
  const std::string metrics = client_->get("/metrics")->body;
  EXPECT_NE(metrics.find(R"(http_requests_total{code="400",handler="/predict",method="POST"} 9)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(http_requests_total{code="413",handler="/predict",method="POST"} 1)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("maestro_model_policy_info{version=\"" + json["model_version"].get<std::string>() +
                         "\"} 1"),
            std::string::npos);
  EXPECT_TRUE(server_.running());
}

TEST_F(ModelServerCli, ReloadsWithoutDroppingARequestRefusesBadFilesAndStopsCleanly) {
  const std::string first = version();
  ASSERT_FALSE(first.empty());
  std::atomic<bool> done{false};
  std::atomic<int> answered{0}, failed{0};
  std::thread caller([&] {
    net::HttpClient own(client_->options());
    while (!done) {
      auto response = own.post("/predict", kObservation);
      (response && response->status == 200 ? answered : failed)++;
    }
  });

  install(directory_ / "seed2.maestro");
  ASSERT_TRUE(serves_other_than(first));
  const std::string second = version();

  std::ofstream(directory_ / "broken") << "not a policy";
  install(directory_ / "broken");
  // Refused: the failure is counted and the second policy still answers.
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (client_->get("/metrics")->body.find(R"(maestro_model_policy_reloads_total{result="failure"} 1)") ==
             std::string::npos &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  EXPECT_NE(client_->get("/metrics")->body.find(R"(maestro_model_policy_reloads_total{result="failure"} 1)"),
            std::string::npos);
  EXPECT_EQ(version(), second);

  // SIGHUP: the file (now the first policy again, copied in place without a rename) is read at once.
  std::filesystem::copy_file(directory_ / "seed1.maestro", policy_,
                             std::filesystem::copy_options::overwrite_existing);
  server_.signal(SIGHUP);
  ASSERT_TRUE(serves_other_than(second));
  EXPECT_EQ(version(), first);

  done = true;
  caller.join();
  EXPECT_GT(answered.load(), 0);
  EXPECT_EQ(failed.load(), 0);

  server_.signal(SIGTERM);
  const auto status = server_.wait(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

}  // namespace
}  // namespace maestro
