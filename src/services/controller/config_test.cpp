// The controller's YAML configuration: defaults, overrides, discovery, and a clear refusal of bad input.
#include "services/controller/config.hpp"

#include <gtest/gtest.h>

namespace maestro::controller {
namespace {

using namespace std::chrono_literals;

const char* kFull = R"(
suggestion_server: http://127.0.0.1:8081
suggestion_timeout_ms: 1500
suggestion_token_file: /var/run/secrets/maestro/suggest-token
listen: 127.0.0.1:0
workers: 4
kubernetes:
  server: http://127.0.0.1:6443
  token: abc
  timeout_ms: 800
defaults:
  min_replicas: 2
  max_replicas: 8
  cooldown_seconds: 30
deployments:
  - name: web
  - name: api
    namespace: shop
    max_replicas: 20
    step: 2
    interval_seconds: 5
    dry_run: true
discovery:
  namespace: shop
  refresh_seconds: 30
)";

TEST(ControllerConfig, ListensOnLoopbackAndSendsNoTokenUnlessTold) {
  auto config = parse_controller_config(R"(
suggestion_server: http://127.0.0.1:8081
kubernetes:
  in_cluster: true
deployments:
  - name: web
)");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->listen, "127.0.0.1:9102");
  EXPECT_TRUE(config->suggestion_token_file.empty());
}

TEST(ControllerConfig, ReadsEverySettingWithDefaultsAndOverrides) {
  auto config = parse_controller_config(kFull);
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->suggestion_server, "http://127.0.0.1:8081");
  EXPECT_EQ(config->suggestion_timeout, 1500ms);
  EXPECT_EQ(config->suggestion_token_file, "/var/run/secrets/maestro/suggest-token");
  EXPECT_EQ(config->workers, 4);
  EXPECT_EQ(config->kubernetes.server, "http://127.0.0.1:6443");
  EXPECT_EQ(config->kubernetes.timeout, 800ms);
  ASSERT_EQ(config->deployments.size(), 2u);
  const auto& web = config->deployments[0];
  EXPECT_EQ(web.namespace_, "default");
  EXPECT_EQ(web.settings.bounds.min, 2);
  EXPECT_EQ(web.settings.bounds.max, 8);
  EXPECT_EQ(web.settings.interval, 15s);
  EXPECT_EQ(web.settings.cooldown, 30s);
  EXPECT_FALSE(web.settings.dry_run);
  const auto& api = config->deployments[1];
  EXPECT_EQ(api.namespace_, "shop");
  EXPECT_EQ(api.settings.bounds.min, 2);
  EXPECT_EQ(api.settings.bounds.max, 20);
  EXPECT_EQ(api.settings.step, 2);
  EXPECT_EQ(api.settings.interval, 5s);
  EXPECT_TRUE(api.settings.dry_run);
  EXPECT_TRUE(config->discovery.enabled);
  EXPECT_EQ(config->discovery.namespace_, "shop");
  EXPECT_EQ(config->discovery.refresh, 30s);
}

void expect_refused(const std::string& yaml, const std::string& mention) {
  auto config = parse_controller_config(yaml);
  ASSERT_FALSE(config.has_value()) << "accepted:\n" << yaml;
  EXPECT_NE(config.error().message.find(mention), std::string::npos) << config.error().message;
}

TEST(ControllerConfig, RefusesBadInputNamingWhatIsWrong) {
  const std::string head = "suggestion_server: http://s\nkubernetes: {server: http://k, token: t}\n";
  expect_refused(head + "deployments: [{name: web, max_replica: 3}]", "max_replica");
  expect_refused(head + "deployments: [{name: web, min_replicas: 5, max_replicas: 3}]", "exceeds max");
  expect_refused(head + "deployments: [{name: web, step: 0}]", "step");
  expect_refused(head + "deployments: [{name: web, interval_seconds: 0}]", "interval_seconds");
  expect_refused(head + "deployments: [{name: web, max_replicas: lots}]", "lots");
  expect_refused(head + "deployments: [{name: web}, {name: web}]", "twice");
  expect_refused(head, "nothing to manage");
  expect_refused("kubernetes: {server: http://k}\ndeployments: [{name: web}]", "suggestion_server");
  expect_refused(
      "suggestion_server: http://s\nkubernetes: {server: http://k, in_cluster: true}\ndeployments: [{name: "
      "w}]",
      "exactly one");
  expect_refused("suggestion_server: [unclosed", "controller configuration");
  // Credentials in a URL are refused, and not repeated in the message.
  expect_refused(
      "suggestion_server: http://u:hunter2@s\nkubernetes: {server: http://k, token: t}\ndeployments: [{name: "
      "w}]",
      "http://***@s");
  expect_refused(
      "suggestion_server: http://s\nkubernetes: {server: 'http://u:hunter2@k', token: t}\n"
      "deployments: [{name: w}]",
      "credentials");
}

TEST(ControllerConfig, DiscoveredDeploymentsMayOverrideTheirBoundsByAnnotation) {
  DeploymentSettings defaults;
  defaults.bounds = {1, 10};
  auto settings =
      settings_from_annotations(defaults, {{kMinReplicasAnnotation, "3"}, {kMaxReplicasAnnotation, "6"}});
  ASSERT_TRUE(settings.has_value());
  EXPECT_EQ(settings->bounds.min, 3);
  EXPECT_EQ(settings->bounds.max, 6);
  // Never above the configured maximum.
  auto capped = settings_from_annotations(defaults, {{kMaxReplicasAnnotation, "1000000"}});
  ASSERT_TRUE(capped.has_value());
  EXPECT_EQ(capped->bounds.max, 10);
  EXPECT_FALSE(settings_from_annotations(defaults, {{kMaxReplicasAnnotation, "six"}}).has_value());
  EXPECT_FALSE(settings_from_annotations(defaults, {{kMinReplicasAnnotation, "12"}}).has_value());
}

}  // namespace
}  // namespace maestro::controller
