// `maestro local up --config`: every key read, defaults kept where a key is absent, typos refused.
#include <gtest/gtest.h>

#include "local/local_config.hpp"

namespace maestro::local {
namespace {

using namespace std::chrono_literals;

TEST(LocalConfig, DefaultsFitATwoCoreMachine) {
  const auto config = parse_local_config("");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  ASSERT_EQ(config->deployments.size(), 1u);
  const auto& pod = config->deployments[0];
  EXPECT_EQ(pod.name, "target-app");
  EXPECT_DOUBLE_EQ(pod.limits.cpu_cores, 0.5);
  EXPECT_EQ(pod.limits.memory_bytes, 256ull << 20);
  EXPECT_TRUE(pod.command.empty());  // the target app beside maestro
  EXPECT_EQ(config->scrape_interval, 5s);
}

TEST(LocalConfig, ReadsEveryKey) {
  const auto config = parse_local_config(R"(
state_dir: /tmp/x
api_listen: 127.0.0.1:0
metrics_listen: 127.0.0.1:9999
prometheus_binary: ''
prometheus_listen: 127.0.0.1:0
scrape_interval_seconds: 2
use_cgroups: false
seed: 9
deployments:
  - name: web
    namespace: shop
    replicas: 3
    listen: 127.0.0.1:0
    command: [app, --port, '{port}']
    startup_delay_seconds: 0.25
    readiness_path: /ready
    readiness_period_seconds: 0.1
    readiness_failures: 2
    termination_grace_seconds: 4
    cpu: 0.25
    memory_mb: 64
    labels: {tier: front}
    annotations: {latencySoftConstraint: '200'}
)");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->state_dir, "/tmp/x");
  EXPECT_TRUE(config->prometheus_binary.empty());
  EXPECT_EQ(config->scrape_interval, 2s);
  EXPECT_FALSE(config->use_cgroups);
  EXPECT_EQ(config->seed, 9u);
  const auto& web = config->deployments.at(0);
  EXPECT_EQ(web.namespace_, "shop");
  EXPECT_EQ(web.replicas, 3);
  EXPECT_EQ(web.command, (std::vector<std::string>{"app", "--port", "{port}"}));
  EXPECT_EQ(web.startup_delay, 250ms);
  EXPECT_EQ(web.readiness_path, "/ready");
  EXPECT_EQ(web.readiness_period, 100ms);
  EXPECT_EQ(web.readiness_failures, 2);
  EXPECT_EQ(web.termination_grace, 4s);
  EXPECT_DOUBLE_EQ(web.limits.cpu_cores, 0.25);
  EXPECT_EQ(web.limits.memory_bytes, 64ull << 20);
  EXPECT_EQ(web.labels.at("tier"), "front");
  EXPECT_EQ(web.annotations.at("latencySoftConstraint"), "200");
}

TEST(LocalConfig, RefusesTyposAndNonsense) {
  EXPECT_FALSE(parse_local_config("api_listn: x").has_value());
  EXPECT_FALSE(parse_local_config("deployments: [{name: a, cpus: 1}]").has_value());
  EXPECT_FALSE(parse_local_config("deployments: [{name: a, replicas: -1}]").has_value());
  EXPECT_FALSE(parse_local_config("deployments: [{name: a, readiness_path: ready}]").has_value());
  EXPECT_FALSE(parse_local_config("deployments: [{name: a}, {name: a}]").has_value());
  EXPECT_FALSE(parse_local_config("scrape_interval_seconds: 0").has_value());
  EXPECT_FALSE(parse_local_config("deployments: {name: a}").has_value());
  const auto error = parse_local_config("deployments: [{name: a, replicas: many}]");
  ASSERT_FALSE(error.has_value());
  EXPECT_NE(error.error().message.find("deployments[0].replicas"), std::string::npos)
      << error.error().message;
}

}  // namespace
}  // namespace maestro::local
