// The real kubectl (Debian's kubernetes-client) against the local Kubernetes API over loopback, with a
// written kubeconfig: discovery, `get deploy` (server-side Table), `scale` (patch and, with
// --resource-version, put of the scale subresource), `annotate` (merge patch), `get events`, `get pods`.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "kube/client.hpp"
#include "local/fake_kube_api.hpp"
#include "support/kubectl.hpp"

namespace maestro {
namespace {

using testing::kKubectl;
using testing::ShellResult;

class LocalKubectlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kKubectl))
      GTEST_SKIP() << kKubectl << " is missing (apt install kubernetes-client)";
    auto web = local::fake_deployment("default", "web", 2);
    web.labels = {{"app", "web"}};
    api_.put_deployment(web);
    api_.put_deployment(local::fake_deployment("other", "db", 1));
    ASSERT_TRUE(api_.start().has_value());
    dir_ = std::filesystem::temp_directory_path() / fmt::format("maestro-kubectl-{}", ::getpid());
    std::filesystem::create_directories(dir_);
    testing::write_kubeconfig(dir_, api_.url(), "default");
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  ShellResult kubectl(const std::string& arguments) { return testing::kubectl(dir_, arguments); }

  local::FakeKubeApi api_{""};  // kubectl sends no bearer token over plain HTTP
  std::filesystem::path dir_;
};

TEST_F(LocalKubectlTest, GetsDeploymentsAsATable) {
  const auto result = kubectl("get deploy");
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("READY"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("web    2/2"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("db"), std::string::npos) << "another namespace leaked: " << result.output;

  const auto everywhere = kubectl("get deployments -A");
  ASSERT_EQ(everywhere.status, 0) << everywhere.output;
  EXPECT_NE(everywhere.output.find("other"), std::string::npos) << everywhere.output;

  const auto selected = kubectl("get deploy -l app=web -o name");
  ASSERT_EQ(selected.status, 0) << selected.output;
  EXPECT_EQ(selected.output, "deployment.apps/web\n");
}

TEST_F(LocalKubectlTest, ScalesThroughTheScaleSubresource) {
  const auto result = kubectl("scale deploy/web --replicas=3");
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(api_.replicas("default", "web"), 3);
  ASSERT_EQ(api_.scale_writes().size(), 1u);
  EXPECT_EQ(api_.scale_writes()[0].from, 2);
  EXPECT_EQ(api_.scale_writes()[0].to, 3);

  const auto version = *api_.resource_version("default", "web");
  const auto guarded = kubectl(fmt::format("scale deploy/web --replicas=4 --resource-version={}", version));
  ASSERT_EQ(guarded.status, 0) << guarded.output;
  EXPECT_EQ(api_.replicas("default", "web"), 4);

  const auto stale = kubectl(fmt::format("scale deploy/web --replicas=5 --resource-version={}", version));
  EXPECT_NE(stale.status, 0) << stale.output;
  EXPECT_EQ(api_.replicas("default", "web"), 4);
}

TEST_F(LocalKubectlTest, AnnotatesADeployment) {
  const auto result = kubectl("annotate deploy/web maestro.io/enabled=true");
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(api_.deployment("default", "web")->annotations.at("maestro.io/enabled"), "true");
  const auto read = kubectl("get deploy web -o jsonpath={.metadata.annotations.maestro\\\\.io/enabled}");
  EXPECT_EQ(read.output, "true") << read.output;

  const auto removed = kubectl("annotate deploy/web maestro.io/enabled-");
  ASSERT_EQ(removed.status, 0) << removed.output;
  EXPECT_FALSE(api_.deployment("default", "web")->annotations.contains("maestro.io/enabled"));
}

TEST_F(LocalKubectlTest, ListsTheEventsTheControllerPosts) {
  net::HttpClientOptions options;
  options.base_url = api_.url();
  kube::KubeClient client(options);
  kube::DeploymentEvent event;
  event.namespace_ = "default";
  event.deployment = "web";
  event.reason = "SuccessfulRescale";
  event.message = "New size: 3; reason: policy said scale up";
  ASSERT_TRUE(client.create_event(event).has_value());

  const auto result = kubectl("get events");
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("SuccessfulRescale"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("deployment/web"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("New size: 3"), std::string::npos) << result.output;
}

TEST_F(LocalKubectlTest, GetsThePodsTheClusterRuns) {
  const auto now = std::chrono::system_clock::now();
  api_.set_pods("default", "web",
                {{.namespace_ = "default",
                  .name = "web-6d4cf56db6-x2vzq",
                  .deployment = "web",
                  .phase = "Running",
                  .ready = true,
                  .port = 40001,
                  .created = now},
                 {.namespace_ = "default",
                  .name = "web-6d4cf56db6-k8p4t",
                  .deployment = "web",
                  .phase = "Running",
                  .ready = false,
                  .port = 40002,
                  .created = now}});
  const auto result = kubectl("get pods");
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("web-6d4cf56db6-x2vzq   1/1     Running"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("web-6d4cf56db6-k8p4t   0/1     Running"), std::string::npos) << result.output;
  const auto selected = kubectl("get po -l app=db -o name");
  ASSERT_EQ(selected.status, 0) << selected.output;
  EXPECT_EQ(selected.output.find("web-"), std::string::npos) << selected.output;

  api_.set_pods("default", "web", {});
  EXPECT_NE(kubectl("get pods").output.find("No resources found"), std::string::npos);
}

TEST_F(LocalKubectlTest, ReportsTheServerVersion) {
  const auto result = kubectl("version");
  ASSERT_EQ(result.status, 0) << result.output;
  // "Server Version: v1.32.0-maestro-local" (kubectl 1.2x), or inside version.Info{...} (older ones).
  EXPECT_NE(result.output.find("v1.32.0-maestro-local"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace maestro
