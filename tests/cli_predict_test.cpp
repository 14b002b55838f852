// `maestro policy init|show` and `maestro predict` as a user runs them: exit codes, JSON, messages.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/action.hpp"
#include "nn/policy.hpp"
#include "support/shell.hpp"

namespace {

using ::testing::HasSubstr;

using CommandRun = maestro::testing::ShellResult;  // stdout and stderr together

CommandRun maestro(const std::string& arguments) {
  return maestro::testing::run_shell(std::string(MAESTRO_BINARY_DIR) + "/maestro " + arguments + " 2>&1");
}

class CliPredict : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ =
        std::filesystem::path(::testing::TempDir()) / ("cli_predict_test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(directory_);
    policy_ = (directory_ / "policy.bin").string();
    const CommandRun init = maestro("policy init --out " + policy_ + " --seed 3");
    ASSERT_EQ(init.status, 0) << init.output;
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }
  std::string predict(const std::string& metrics) { return "predict --policy " + policy_ + " " + metrics; }

  std::filesystem::path directory_;
  std::string policy_;
};

TEST_F(CliPredict, PrintsOneJsonObjectWithTheLibrarysPrediction) {
  const CommandRun run =
      maestro(predict("--cpu-usage 150 --memory-usage 3e8 --replicas 2 --latency 120 --rps 50"));
  ASSERT_EQ(run.status, 0) << run.output;
  const auto json = nlohmann::json::parse(run.output);
  const int action = json.at("action").get<int>();
  ASSERT_GE(action, 0);
  ASSERT_LE(action, 2);
  const auto probabilities = json.at("probabilities").get<std::vector<double>>();
  ASSERT_EQ(probabilities.size(), 3u);
  EXPECT_NEAR(probabilities[0] + probabilities[1] + probabilities[2], 1.0, 1e-9);

  // The same as the serving library computes for the same file and observation.
  const auto policy = maestro::nn::load_policy(policy_);
  ASSERT_TRUE(policy.has_value());
  const auto expected = *policy->predict({150, 3e8, 2, 120, 50});
  EXPECT_EQ(action, expected.action);
  EXPECT_EQ(json.at("action_name").get<std::string>(),
            maestro::core::action_name(static_cast<maestro::core::Action>(expected.action)));
  for (int i = 0; i < 3; ++i) EXPECT_DOUBLE_EQ(probabilities[i], expected.probabilities[i]);
  EXPECT_EQ(json.at("replicas").get<int>(), 2);
  EXPECT_EQ(json.at("desired_replicas").get<int>(), 2 + action - 1);
  EXPECT_EQ(json.at("model_version").get<std::string>(), policy->version());
}

// An extended, multi-action policy is never answered from the five metrics alone; with its features it is,
// with what the action means.
TEST_F(CliPredict, AHistoryPolicyNeedsItsFeaturesAndSaysWhatItsActionMeans) {
  const std::string extended = (directory_ / "extended.bin").string();
  ASSERT_TRUE(maestro::nn::write_policy_file(
      extended,
      maestro::nn::untrained_autoscaling_policy({maestro::core::FeatureSet::kExtended, 512.0 * 1024 * 1024},
                                                3, maestro::core::multi_action_set())));
  const std::string metrics = "--cpu-usage 150 --memory-usage 134217728 --replicas 2 --latency 100 --rps 50";
  const CommandRun without = maestro("predict --policy " + extended + " " + metrics);
  EXPECT_EQ(without.status, 2);
  EXPECT_THAT(without.output, HasSubstr("missing field 'features'"));
  const CommandRun with = maestro("predict --policy " + extended + " " + metrics +
                                  " --features 150,0.125,2,100,50,1,75,25,0.6,0.6,50,32.5,100");
  ASSERT_EQ(with.status, 0) << with.output;
  const auto json = nlohmann::json::parse(with.output);
  EXPECT_EQ(json.at("action_set"), "multi");
  EXPECT_EQ(json.at("probabilities").size(), 8u);
  EXPECT_EQ(json.at("replicas"), 2);
  EXPECT_TRUE(json.at("replica_change").contains("kind"));
  const CommandRun short_vector = maestro("predict --policy " + extended + " " + metrics + " --features 1,2");
  EXPECT_EQ(short_vector.status, 2);
  EXPECT_THAT(short_vector.output, HasSubstr("has 2 numbers but feature set 'extended' has 13"));
}

TEST_F(CliPredict, NanNegativeOrMissingMetricIsAUsageError) {
  const CommandRun nan =
      maestro(predict("--cpu-usage nan --memory-usage 3e8 --replicas 2 --latency 120 --rps 50"));
  EXPECT_EQ(nan.status, 2);
  EXPECT_THAT(nan.output, HasSubstr("cpu_usage is NaN"));
  const CommandRun negative =
      maestro(predict("--cpu-usage 150 --memory-usage 3e8 --replicas 2 --latency -5 --rps 50"));
  EXPECT_EQ(negative.status, 2);
  EXPECT_THAT(negative.output, HasSubstr("latency is negative"));
  const CommandRun missing =
      maestro(predict("--cpu-usage 150 --memory-usage 3e8 --replicas 2 --latency 120"));
  EXPECT_EQ(missing.status, 2);
  EXPECT_THAT(missing.output, HasSubstr("--rps is required"));
  const CommandRun junk =
      maestro(predict("--cpu-usage lots --memory-usage 3e8 --replicas 2 --latency 120 --rps 5"));
  EXPECT_EQ(junk.status, 2);
}

TEST_F(CliPredict, DamagedPolicyFileIsARunTimeFailureNamingTheProblem) {
  {
    std::fstream file(policy_, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(100);
    file.put('\x7f');
  }
  const CommandRun run =
      maestro(predict("--cpu-usage 150 --memory-usage 3e8 --replicas 2 --latency 120 --rps 50"));
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output, HasSubstr("corrupt"));
  const CommandRun show = maestro("policy show " + policy_);
  EXPECT_EQ(show.status, 1);
  EXPECT_THAT(show.output, HasSubstr("corrupt"));
}

TEST_F(CliPredict, ShowPrintsTheMetadataAndInitIsReproducible) {
  const CommandRun show = maestro("policy show " + policy_);
  ASSERT_EQ(show.status, 0) << show.output;
  EXPECT_THAT(show.output, HasSubstr("actor hidden 64×64"));
  EXPECT_THAT(show.output, HasSubstr("scale_down, hold, scale_up"));
  EXPECT_THAT(show.output, HasSubstr("seed:              3"));

  const std::string again = (directory_ / "again.bin").string();
  ASSERT_EQ(maestro("policy init --out " + again + " --seed 3").status, 0);
  auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(read(again), read(policy_));
  EXPECT_EQ(maestro("policy init --seed 3").status, 2);  // --out is required
}

}  // namespace
