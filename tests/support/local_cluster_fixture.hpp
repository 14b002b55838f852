// Test support for tests that run the local cluster: a deployment of the sample target app on loopback, and a
// fixture that starts a cluster in a state folder of its own (named after the test) and stops it and removes
// the folder after the test.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "local/local_cluster.hpp"

namespace maestro::testing {

// Pods of the target app at `cpu_ms` of CPU a request on 2 workers: half a core and 128 MiB each, Ready
// 0.3 s after their start, labelled app.kubernetes.io/name=NAME (as deploy/chaos/ selects them).
inline local::LocalDeploymentConfig target_app_deployment(const std::string& name, int replicas,
                                                          double cpu_ms = 1) {
  using namespace std::chrono_literals;
  local::LocalDeploymentConfig d;
  d.name = name;
  d.listen = "127.0.0.1:0";
  d.replicas = replicas;
  d.command = {std::string(MAESTRO_BINARY_DIR) + "/maestro-target-app",
               "--listen",
               "127.0.0.1:{port}",
               "--cpu-ms",
               fmt::format("{}", cpu_ms),
               "--workers",
               "2"};
  d.startup_delay = 300ms;
  d.readiness_period = 100ms;
  d.termination_grace = 5s;
  d.limits = {.cpu_cores = 0.5, .memory_bytes = 128ull << 20};
  d.labels = {{"app.kubernetes.io/name", name}};
  return d;
}

// Running, not merely a zombie waiting to be reaped.
inline bool process_running(int pid) {
  std::ifstream file(fmt::format("/proc/{}/stat", pid));
  const std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

class LocalClusterFixture : public ::testing::Test {
 protected:
  void TearDown() override {
    if (cluster_) cluster_->stop();
    if (!folder_.empty()) std::filesystem::remove_all(folder_);
  }

  // Starts `config` with its own state folder and API port; a failure to start fails the test.
  local::LocalCluster& start(local::LocalConfig config) {
    folder_ = std::filesystem::temp_directory_path() /
              fmt::format("maestro-{}-{}", ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                          ::getpid());
    std::filesystem::remove_all(folder_);
    config.state_dir = folder_;
    config.api_listen = "127.0.0.1:0";
    cluster_ = std::make_unique<local::LocalCluster>(std::move(config));
    auto started = cluster_->start();
    EXPECT_TRUE(started.has_value()) << started.error().message;
    return *cluster_;
  }

  std::filesystem::path folder_;
  std::unique_ptr<local::LocalCluster> cluster_;
};

}  // namespace maestro::testing
