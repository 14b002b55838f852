// The real kubectl (Debian's kubernetes-client) with MaestroAutoscalers on the local Kubernetes API:
// discovery finds the resource and its short name, `kubectl apply -f deploy/crd/example.yaml` creates and
// then edits them, `kubectl get msa` prints the CRD's printer columns as `kubectl get hpa` does (with the
// status the controller writes), `kubectl describe` and `kubectl delete` work.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include <fmt/format.h>

#include "kube/client.hpp"
#include "kube/custom_resources.hpp"
#include "local/fake_kube_api.hpp"
#include "support/kubectl.hpp"

namespace maestro {
namespace {

using testing::kKubectl;
using testing::ShellResult;

class AutoscalerKubectlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kKubectl))
      GTEST_SKIP() << kKubectl << " is missing (apt install kubernetes-client)";
    api_.put_deployment(local::fake_deployment("shop", "web", 3));
    ASSERT_TRUE(api_.start().has_value());
    dir_ = std::filesystem::temp_directory_path() / fmt::format("maestro-msa-kubectl-{}", ::getpid());
    std::filesystem::create_directories(dir_);
    testing::write_kubeconfig(dir_, api_.url(), "shop");
    net::HttpClientOptions options;
    options.base_url = api_.url();
    kube_ = std::make_unique<kube::KubeClient>(options);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  ShellResult kubectl(const std::string& arguments) { return testing::kubectl(dir_, arguments); }

  local::FakeKubeApi api_{""};  // kubectl sends no bearer token over plain HTTP
  std::unique_ptr<kube::KubeClient> kube_;
  std::filesystem::path dir_;
};

TEST_F(AutoscalerKubectlTest, AppliesGetsDescribesAndDeletesMaestroAutoscalers) {
  const std::string example = std::string(MAESTRO_SOURCE_DIR) + "/deploy/crd/example.yaml";
  // --validate=false: the local API serves no OpenAPI document for kubectl to validate against (the CRD's
  // schema is checked by tests/manifests instead).
  const auto applied = kubectl("apply --validate=false -f " + example);
  ASSERT_EQ(applied.status, 0) << applied.output;
  EXPECT_NE(applied.output.find("maestroautoscaler.autoscaling.maestro.io/web created"), std::string::npos)
      << applied.output;

  // The status the controller writes, as it writes it.
  auto stored = kube::get_object(*kube_, kube::kMaestroAutoscalers, "shop", "web");
  ASSERT_TRUE(stored) << stored.error().message;
  const nlohmann::json status = {
      {"observedGeneration", 1},
      {"currentReplicas", 3},
      {"desiredReplicas", 4},
      {"lastDecision", {{"result", "scaled"}, {"reason", "policy"}, {"action", "scale_up"}}},
      {"conditions",
       {{{"type", "AbleToScale"}, {"status", "True"}, {"reason", "SucceededRescale"}, {"message", "m"}},
        {{"type", "ScalingActive"}, {"status", "True"}, {"reason", "ValidSuggestion"}, {"message", "m"}}}}};
  ASSERT_TRUE(kube::patch_status(*kube_, kube::kMaestroAutoscalers, "shop", "web", status,
                                 (*stored)["metadata"]["resourceVersion"]));

  const auto listed = kubectl("get msa");
  ASSERT_EQ(listed.status, 0) << listed.output;
  EXPECT_TRUE(std::regex_search(
      listed.output, std::regex("NAME +REFERENCE +POLICY +MINPODS +MAXPODS +REPLICAS +ACTIVE +AGE\n")))
      << listed.output;
  EXPECT_TRUE(std::regex_search(listed.output, std::regex("\nweb +web +Learned +2 +10 +3 +True +\\d+s\n")))
      << listed.output;
  EXPECT_TRUE(std::regex_search(listed.output, std::regex("\ncache +cache +Learned +3 +9 +\\d+s\n")))
      << listed.output;
  // No status yet: its columns are empty, as kubectl prints a CRD column whose jsonPath finds nothing.
  EXPECT_TRUE(
      std::regex_search(listed.output, std::regex("\nweb-hpa-shadow +web-canary +HPA +1 +10 +\\d+s\n")))
      << listed.output;
  const auto wide = kubectl("get maestroautoscalers -o wide");
  ASSERT_EQ(wide.status, 0) << wide.output;
  EXPECT_NE(wide.output.find("LAST DECISION"), std::string::npos) << wide.output;
  EXPECT_NE(wide.output.find("policy"), std::string::npos) << wide.output;

  const auto described = kubectl("describe msa web");
  ASSERT_EQ(described.status, 0) << described.output;
  EXPECT_NE(described.output.find("Max Replicas:"), std::string::npos) << described.output;
  EXPECT_NE(described.output.find("SucceededRescale"), std::string::npos) << described.output;

  // An edit through apply: a merge patch of the spec; the generation moves, the status stays.
  std::string text;
  {
    std::ifstream in(example);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  text.replace(text.find("maxReplicas: 10"), 15, "maxReplicas: 12");
  std::ofstream(dir_ / "edited.yaml") << text;
  const auto edited = kubectl(fmt::format("apply --validate=false -f {}/edited.yaml", dir_.string()));
  ASSERT_EQ(edited.status, 0) << edited.output;
  EXPECT_NE(edited.output.find("maestroautoscaler.autoscaling.maestro.io/web configured"), std::string::npos)
      << edited.output;
  auto after = kube::get_object(*kube_, kube::kMaestroAutoscalers, "shop", "web");
  ASSERT_TRUE(after);
  EXPECT_EQ((*after)["spec"]["maxReplicas"], 12);
  EXPECT_EQ((*after)["metadata"]["generation"], 2);
  EXPECT_EQ((*after)["status"]["currentReplicas"], 3);

  const auto deleted = kubectl("delete msa web-hpa-shadow");
  ASSERT_EQ(deleted.status, 0) << deleted.output;
  const auto remaining = kubectl("get msa -o name");
  EXPECT_EQ(remaining.output,
            "maestroautoscaler.autoscaling.maestro.io/cache\nmaestroautoscaler.autoscaling.maestro.io/web\n");
}

}  // namespace
}  // namespace maestro
