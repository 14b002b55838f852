// `maestro controller` as a process: a bad configuration is a usage error that names the problem; --once
// reconciles and exits; a running controller serves /healthz, /readyz and /metrics and stops on SIGTERM.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "local/fake_kube_api.hpp"
#include "net/http_client.hpp"
#include "support/eventually.hpp"
#include "support/fake_suggestion_server.hpp"
#include "support/target_app_process.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;

class ControllerCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / fmt::format("maestro-controller-cli-{}", ::getpid());
    std::filesystem::create_directories(dir_);
    api_.put_deployment(local::fake_deployment("shop", "web", 3));
    ASSERT_TRUE(api_.start().has_value());
    ASSERT_TRUE(suggestions_.start().has_value());
    suggestions_.answer_action(2);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write_config(const std::string& extra = "") {
    std::ofstream(dir_ / "token") << "cli-token\n";
    std::ofstream(dir_ / "controller.yaml") << fmt::format(R"(
suggestion_server: {}
listen: 127.0.0.1:0
kubernetes:
  server: {}
  token_file: token
deployments:
  - namespace: shop
    name: web
    max_replicas: 5
{})",
                                                           suggestions_.url(), api_.url(), extra);
    return (dir_ / "controller.yaml").string();
  }

  static testing::ChildProcess run(std::vector<std::string> args) {
    args.insert(args.begin(), {kMaestro, "controller"});
    auto child = testing::ChildProcess::spawn(args);
    if (!child) throw std::runtime_error(child.error().message);
    return std::move(*child);
  }
  static inline const std::string kMaestro = std::string(MAESTRO_BINARY_DIR) + "/maestro";

  static int exit_code(testing::ChildProcess& child) {
    const auto status = child.wait(30s);
    EXPECT_TRUE(status.has_value()) << "still running";
    return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  }

  std::filesystem::path dir_;
  local::FakeKubeApi api_{"cli-token"};
  testing::FakeSuggestionServer suggestions_{api_};
};

TEST_F(ControllerCli, RefusesABadConfigurationAsAUsageError) {
  auto child = run({"--config", write_config("    min_replica: 2\n")});
  EXPECT_EQ(exit_code(child), 2);
  std::ofstream(dir_ / "bounds.yaml") << "suggestion_server: x\nkubernetes: {server: y}\n"
                                         "deployments: [{name: w, min_replicas: 4, max_replicas: 2}]\n";
  auto bounds = run({"--config", (dir_ / "bounds.yaml").string()});
  EXPECT_EQ(exit_code(bounds), 2);
  auto missing = run({"--config", (dir_ / "missing.yaml").string()});
  EXPECT_EQ(exit_code(missing), 2);
  EXPECT_EQ(api_.requests(), 0u) << "a refused configuration still talked to the API";
}

TEST_F(ControllerCli, OnceReconcilesEveryListedDeploymentAndExits) {
  auto child = run({"--config", write_config(), "--once"});
  EXPECT_EQ(exit_code(child), 0);
  EXPECT_EQ(api_.replicas("shop", "web"), 4);
  EXPECT_EQ(api_.events().size(), 1u);
}

// Every listed deployment, not only the first one due (the others used to be spread over the interval and
// never reached); one that cannot be reconciled makes the exit code non-zero.
TEST_F(ControllerCli, OnceReconcilesAllListedDeploymentsAndFailsIfAnyFailed) {
  api_.put_deployment(local::fake_deployment("shop", "api", 2));
  api_.put_deployment(local::fake_deployment("shop", "db", 3));
  const std::string listed =
      "  - {namespace: shop, name: api, max_replicas: 5}\n"
      "  - {namespace: shop, name: db, max_replicas: 5}\n";
  auto all = run({"--config", write_config(listed), "--once"});
  EXPECT_EQ(exit_code(all), 0);
  EXPECT_EQ(api_.replicas("shop", "web"), 4);
  EXPECT_EQ(api_.replicas("shop", "api"), 3);
  EXPECT_EQ(api_.replicas("shop", "db"), 4);

  auto missing = run(
      {"--config", write_config(listed + "  - {namespace: shop, name: gone, max_replicas: 5}\n"), "--once"});
  EXPECT_EQ(exit_code(missing), 1);
  EXPECT_EQ(api_.replicas("shop", "web"), 5);  // the others were still reconciled
  EXPECT_EQ(api_.replicas("shop", "api"), 4);
}

TEST_F(ControllerCli, ReachesTheApiThroughAKubeconfigsCurrentContext) {
  std::ofstream(dir_ / "kubeconfig") << fmt::format(R"(
apiVersion: v1
kind: Config
current-context: local
contexts:
  - name: other
    context: {{cluster: nowhere, user: nobody}}
  - name: local
    context: {{cluster: fake, user: controller}}
clusters:
  - name: nowhere
    cluster: {{server: "http://127.0.0.1:1"}}
  - name: fake
    cluster: {{server: "{}"}}
users:
  - name: nobody
    user: {{token: wrong}}
  - name: controller
    user: {{token: cli-token}}
)",
                                                    api_.url());
  std::ofstream(dir_ / "controller.yaml") << fmt::format(
      "suggestion_server: {}\nlisten: 127.0.0.1:0\nkubernetes: {{kubeconfig: kubeconfig}}\n"
      "deployments: [{{namespace: shop, name: web, max_replicas: 5}}]\n",
      suggestions_.url());
  auto child = run({"--config", (dir_ / "controller.yaml").string(), "--once"});
  EXPECT_EQ(exit_code(child), 0);
  EXPECT_EQ(api_.replicas("shop", "web"), 4);
}

TEST_F(ControllerCli, ServesHealthReadinessAndMetricsAndStopsOnSigterm) {
  auto child = run({"--config", write_config()});
  unsigned port = 0;
  for (int line = 0; line < 20 && port == 0; ++line) {
    const auto text = child.read_line(10s);
    ASSERT_TRUE(text.has_value()) << "no port announced";
    if (const auto at = text->find("metrics on port "); at != std::string::npos)
      port = static_cast<unsigned>(std::stoul(text->substr(at + 16)));
  }
  net::HttpClientOptions options;
  options.base_url = fmt::format("http://127.0.0.1:{}", port);
  options.retry.max_attempts = 1;
  net::HttpClient http(options);
  EXPECT_EQ(http.get("/healthz")->status, 200);
  EXPECT_EQ(http.get("/readyz")->status, 200);

  // The first interval is immediate: poll until the decision is counted, which follows the scaling and its
  // event (polling for the event alone raced the count under ASan's slower timing).
  constexpr std::string_view kScaled =
      R"(maestro_controller_decisions_total{action="scale_up",deployment="web",namespace="shop",result="scaled"} 1)";
  std::string metrics;
  EXPECT_TRUE(testing::eventually(
      [&] {
        const auto answer = http.get("/metrics");
        metrics = answer ? answer->body : std::string();
        return metrics.find(kScaled) != std::string::npos;
      },
      20s))
      << metrics;
  EXPECT_EQ(api_.replicas("shop", "web"), 4);
  EXPECT_FALSE(api_.events().empty());

  child.signal(SIGTERM);
  EXPECT_EQ(exit_code(child), 0);
}

}  // namespace
}  // namespace maestro
