// `maestro demo` end to end (with a tiny training budget): it trains, evaluates the policy against every
// baseline on the trace, prints the table and writes the report; and `maestro train --env sim` trains a
// policy file that `maestro eval --policy ppo:FILE` accepts.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <unistd.h>
#include <nlohmann/json.hpp>

#include "support/shell.hpp"

namespace {

namespace fs = std::filesystem;

maestro::testing::ShellResult run(const std::string& arguments) {
  return maestro::testing::run_shell("MAESTRO_SHARED_DIR=" + std::string(MAESTRO_SHARED_DIR) + " " +
                                     std::string(MAESTRO_BINARY_DIR) + "/maestro " + arguments +
                                     " 2>/dev/null");
}

class DemoCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("maestro-demo-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(DemoCommand, TrainsEvaluatesAndReports) {
  const auto out = dir_ / "demo";
  const auto result = run("demo --steps 4096 --seeds 1 --out " + out.string());
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("report: " + (out / "report.html").string()), std::string::npos)
      << result.output;
  std::ifstream file(out / "results.json");
  const auto results = nlohmann::json::parse(file);
  std::set<std::string> names;
  for (const auto& policy : results["policies"]) names.insert(policy["name"].get<std::string>());
  for (const auto* expected : {"ppo", "hpa", "hpa-t50-w300", "kpa", "static", "oracle-schedule"}) {
    EXPECT_TRUE(names.contains(expected)) << expected;
    EXPECT_NE(result.output.find(expected), std::string::npos) << expected;  // in the printed table
  }
  EXPECT_TRUE(fs::exists(out / "policy.maestro"));
  EXPECT_TRUE(fs::exists(out / "timeseries" / "ppo.csv"));
}

TEST_F(DemoCommand, TrainOnTheSimulatorThenEvaluateThePolicy) {
  const auto policy = dir_ / "sim.policy";
  const auto trained =
      run("train --env sim-extended --scenario nasa --steps 2048 --n-envs 2 --n-steps 1024 --out " +
          policy.string());
  ASSERT_EQ(trained.status, 0) << trained.output;
  const auto evaluated = run("eval --scenario nasa --duration 600 --seeds 1 --policy ppo:" + policy.string() +
                             " --policy hpa --out " + (dir_ / "eval").string());
  ASSERT_EQ(evaluated.status, 0) << evaluated.output;
  EXPECT_NE(evaluated.output.find("ppo"), std::string::npos);
  EXPECT_EQ(run("train --env sim --scenario no-such-scenario --steps 2048 --out " + policy.string()).status,
            2);
}

}  // namespace
