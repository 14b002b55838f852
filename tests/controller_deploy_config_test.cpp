// The controller configuration shipped in deploy/base/controller.yaml's ConfigMap is one the controller
// accepts, with the settings the manifests rely on (in-cluster credentials, discovery, metrics on the probed
// port, leader election).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>
#include <vector>

#include "services/controller/config.hpp"

namespace maestro {
namespace {

TEST(DeployManifests, ControllerConfigMapIsAValidConfiguration) {
  const auto documents =
      YAML::LoadAllFromFile(std::string(MAESTRO_SOURCE_DIR) + "/deploy/base/controller.yaml");
  const YAML::Node* config_map = nullptr;
  for (const auto& document : documents)
    if (document["kind"].as<std::string>() == "ConfigMap") config_map = &document;
  ASSERT_NE(config_map, nullptr);
  auto config =
      controller::parse_controller_config((*config_map)["data"]["controller.yaml"].as<std::string>());
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_TRUE(config->kubernetes.in_cluster);
  EXPECT_TRUE(config->discovery.enabled);
  EXPECT_EQ(config->listen, "0.0.0.0:9102");
  EXPECT_EQ(config->defaults.interval, std::chrono::seconds(15));

  // The Deployment probes and scrapes the port the configuration listens on, with the config mounted where
  // its args say.
  for (const auto& document : documents) {
    if (document["kind"].as<std::string>() != "Deployment") continue;
    const auto container = document["spec"]["template"]["spec"]["containers"][0];
    EXPECT_EQ(container["ports"][0]["containerPort"].as<int>(), 9102);
    EXPECT_EQ(container["args"][2].as<std::string>(), "/etc/maestro/controller.yaml");
    // Its replicas elect a leader, each under its own pod's name.
    EXPECT_GE(document["spec"]["replicas"].as<int>(), 2);
    std::vector<std::string> args;
    for (const auto& arg : container["args"]) args.push_back(arg.as<std::string>());
    EXPECT_NE(std::ranges::find(args, "--leader-elect"), args.end());
    EXPECT_NE(std::ranges::find(args, "--leader-elect-identity=$(POD_NAME)"), args.end());
    EXPECT_EQ(container["env"][0]["valueFrom"]["fieldRef"]["fieldPath"].as<std::string>(), "metadata.name");
    EXPECT_EQ(container["volumeMounts"][0]["mountPath"].as<std::string>(), "/etc/maestro");
    EXPECT_EQ(document["spec"]["template"]["spec"]["serviceAccountName"].as<std::string>(),
              "maestro-controller");
  }
}

}  // namespace
}  // namespace maestro
