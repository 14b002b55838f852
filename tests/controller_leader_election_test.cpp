// Two `maestro controller --leader-elect` processes against the local Kubernetes API: one takes the Lease and
// scales, the other waits; killed, the leader is replaced within the lease duration and the new leader
// scales; stopped with SIGTERM, a leader hands the Lease back at once.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "local/fake_kube_api.hpp"
#include "net/http_client.hpp"
#include "support/eventually.hpp"
#include "support/fake_suggestion_server.hpp"
#include "support/target_app_process.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;

constexpr const char* kLeasePath =
    "/apis/coordination.k8s.io/v1/namespaces/maestro/leases/maestro-controller";

class ControllerLeaderElection : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / fmt::format("maestro-leader-{}", ::getpid());
    std::filesystem::create_directories(dir_);
    api_.put_deployment(local::fake_deployment("shop", "web", 1));
    ASSERT_TRUE(api_.start().has_value());
    ASSERT_TRUE(suggestions_.start().has_value());
    suggestions_.answer_action(1);  // hold until told otherwise
    std::ofstream(dir_ / "token") << "leader-token\n";
    std::ofstream(dir_ / "controller.yaml") << fmt::format(R"(
suggestion_server: {}
listen: 127.0.0.1:0
kubernetes:
  server: {}
  token_file: token
deployments:
  - namespace: shop
    name: web
    max_replicas: 10
    interval_seconds: 1
)",
                                                           suggestions_.url(), api_.url());
    net::HttpClientOptions options;
    options.base_url = api_.url();
    options.retry.max_attempts = 1;
    options.bearer_token = [] { return Result<std::string>("leader-token"); };
    http_ = std::make_unique<net::HttpClient>(options);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  testing::ChildProcess start(const std::string& identity) {
    auto child = testing::ChildProcess::spawn(
        {std::string(MAESTRO_BINARY_DIR) + "/maestro", "controller", "--config",
         (dir_ / "controller.yaml").string(), "--leader-elect", "--leader-elect-resource-namespace",
         "maestro", "--leader-elect-identity", identity, "--leader-elect-lease-duration", "3",
         "--leader-elect-renew-deadline", "2", "--leader-elect-retry-period", "1"},
        (dir_ / (identity + ".log")).string());
    if (!child) throw std::runtime_error(child.error().message);
    return std::move(*child);
  }

  // The Lease's spec as the API holds it; null while there is none.
  nlohmann::json lease() {
    auto response = http_->get(kLeasePath);
    if (!response || response->status != 200) return nullptr;
    return nlohmann::json::parse(response->body, nullptr, false).value("spec", nlohmann::json::object());
  }
  std::string holder() {
    const auto spec = lease();
    return spec.is_object() ? spec.value("holderIdentity", "") : "(none)";
  }

  std::filesystem::path dir_;
  local::FakeKubeApi api_{"leader-token"};
  testing::FakeSuggestionServer suggestions_{api_};
  std::unique_ptr<net::HttpClient> http_;
};

TEST_F(ControllerLeaderElection,
       OneLeaderActsAKilledLeaderIsReplacedWithinTheLeaseAndAStoppedOneHandsItOver) {
  auto a = start("controller-a");
  ASSERT_TRUE(testing::eventually([&] { return holder() == "controller-a"; }, 20s)) << holder();
  auto b = start("controller-b");
  // b waits as long as a renews: several leases long, the holder and transitions do not change.
  EXPECT_TRUE(testing::consistently([&] { return holder() == "controller-a"; }, 8s, 200ms)) << holder();
  EXPECT_EQ(lease().value("leaseTransitions", -1), 0);
  suggestions_.answer_action(2);  // scale up: the leader acts
  ASSERT_TRUE(testing::eventually([&] { return api_.replicas("shop", "web").value_or(0) >= 2; }, 20s));

  // The leader dies without a word; b takes over once the lease has run out.
  suggestions_.answer_action(1);
  const auto killed_at = std::chrono::steady_clock::now();
  a.signal(SIGKILL);
  ASSERT_TRUE(a.wait(10s).has_value());
  ASSERT_TRUE(testing::eventually([&] { return holder() == "controller-b"; }, 30s)) << holder();
  const double failover_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  std::cout << "leader failover: " << failover_s << " s (lease 3 s, retry 1 s)\n";
  EXPECT_EQ(lease().value("leaseTransitions", -1), 1);
  const int before = api_.replicas("shop", "web").value_or(0);
  suggestions_.answer_action(2);
  EXPECT_TRUE(testing::eventually([&] { return api_.replicas("shop", "web").value_or(0) > before; }, 20s))
      << "the new leader scales";

  // Stopped, b gives the Lease up at once.
  b.signal(SIGTERM);
  const auto status = b.wait(20s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  EXPECT_EQ(holder(), "");
}

}  // namespace
}  // namespace maestro
