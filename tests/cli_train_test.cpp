// `maestro train` as a user runs it: the JSON summary, byte-identical policy files for the same seed,
// hyperparameters from a YAML file and flags, logs, and usage errors with status 2.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "nn/policy_file.hpp"
#include "support/shell.hpp"

namespace {

using ::testing::HasSubstr;

struct CommandRun {
  int status = -1;
  std::string out, err;
};

CommandRun maestro(const std::string& arguments, const std::filesystem::path& err_file) {
  const std::string command =
      std::string(MAESTRO_BINARY_DIR) + "/maestro " + arguments + " 2>" + err_file.string();
  const maestro::testing::ShellResult shell = maestro::testing::run_shell(command);
  CommandRun run{shell.status, shell.output, {}};
  std::ifstream err(err_file);
  run.err.assign(std::istreambuf_iterator<char>(err), {});
  return run;
}

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string last_line(const std::string& text) {
  std::istringstream lines(text);
  std::string line, last;
  while (std::getline(lines, line))
    if (!line.empty()) last = line;
  return last;
}

class CliTrain : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) / ("cli_train_test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  CommandRun run(const std::string& arguments) { return maestro(arguments, dir_ / "stderr.txt"); }
  std::string path(const std::string& name) { return (dir_ / name).string(); }
  std::string train(const std::string& out, int seed, const std::string& extra = "") {
    return "train --env cartpole --steps 2048 --preset rl-zoo-cartpole --quiet --seed " +
           std::to_string(seed) + " --out " + path(out) + " " + extra;
  }
  std::filesystem::path dir_;
};

TEST_F(CliTrain, SameSeedSameFileByteForByteAndAJsonSummaryLast) {
  const CommandRun first = run(train("a.bin", 3, "--eval-episodes 3"));
  ASSERT_EQ(first.status, 0) << first.err;
  const auto summary = nlohmann::json::parse(last_line(first.out));
  EXPECT_EQ(summary.at("steps").get<int>(), 2048);
  EXPECT_GT(summary.at("seconds").get<double>(), 0);
  EXPECT_GT(summary.at("steps_per_second").get<double>(), 0);
  EXPECT_GE(summary.at("eval_mean_return").get<double>(), 8);  // a CartPole episode lasts at least 8 steps
  EXPECT_GE(summary.at("eval_std_return").get<double>(), 0);

  ASSERT_EQ(run(train("b.bin", 3, "--threads 2")).status, 0);
  ASSERT_EQ(run(train("c.bin", 4)).status, 0);
  EXPECT_EQ(read(path("a.bin")), read(path("b.bin")));  // also with two threads
  EXPECT_NE(read(path("a.bin")), read(path("c.bin")));

  auto policy = maestro::nn::read_policy_file(path("a.bin"));
  ASSERT_TRUE(policy.has_value()) << policy.error().message;
  EXPECT_EQ(policy->metadata.algorithm, "ppo");
  EXPECT_EQ(policy->metadata.environment, "cartpole");
  EXPECT_EQ(policy->metadata.steps, 2048u);
  EXPECT_EQ(policy->metadata.seed, 3u);
  EXPECT_TRUE(policy->metadata.trained_at.empty());
  EXPECT_THAT(policy->metadata.hyperparameters,
              ::testing::Contains(std::pair<std::string, std::string>{"learning_rate", "lin_0.001"}));
}

TEST_F(CliTrain, HyperparametersFromYamlThenFlagsAreSavedAndTimeOnlyWhenAsked) {
  {
    std::ofstream yaml(path("hp.yaml"));
    yaml << "n_epochs: 3\nent_coef: 0.01\nclip_range_vf: 0.2\n";
  }
  const CommandRun run_ =
      run(train("yaml.bin", 1, "--config " + path("hp.yaml") + " --ent-coef 0.02 --record-time"));
  ASSERT_EQ(run_.status, 0) << run_.err;
  auto policy = maestro::nn::read_policy_file(path("yaml.bin"));
  ASSERT_TRUE(policy.has_value());
  const auto& h = policy->metadata.hyperparameters;
  EXPECT_THAT(h, ::testing::Contains(std::pair<std::string, std::string>{"n_epochs", "3"}));
  EXPECT_THAT(h, ::testing::Contains(std::pair<std::string, std::string>{"ent_coef", "0.02"}));
  EXPECT_THAT(h, ::testing::Contains(std::pair<std::string, std::string>{"clip_range_vf", "0.2"}));
  EXPECT_EQ(policy->metadata.trained_at.size(), 20u);  // 2026-11-27T18:00:00Z
}

TEST_F(CliTrain, LogsAndBestPolicy) {
  const CommandRun r =
      run(train("logged.bin", 2,
                "--log-csv " + path("log.csv") + " --pods-csv " + path("pods.csv") +
                    " --eval-freq 512 --eval-freq-episodes 2 --best-out " + path("best.bin")));
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string log = read(path("log.csv"));
  EXPECT_THAT(log, HasSubstr("rollout/ep_rew_mean"));
  EXPECT_THAT(log, HasSubstr("train/approx_kl"));
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1 + 8);  // header + 2048/256 iterations
  const std::string pods = read(path("pods.csv"));
  EXPECT_EQ(std::count(pods.begin(), pods.end(), '\n'), 1 + 2048);  // header + one row per env per step
  EXPECT_TRUE(maestro::nn::read_policy_file(path("best.bin")).has_value());
}

TEST_F(CliTrain, UsageErrorsExitWithTwo) {
  const CommandRun unknown_env = run("train --env nowhere --steps 10 --out " + path("x.bin"));
  EXPECT_EQ(unknown_env.status, 2);
  EXPECT_THAT(unknown_env.err, HasSubstr("unknown environment 'nowhere'"));
  const CommandRun preset = run("train --env cartpole --steps 10 --out " + path("x.bin") + " --preset ppo9");
  EXPECT_EQ(preset.status, 2);
  EXPECT_THAT(preset.err, HasSubstr("unknown preset"));
  const CommandRun value = run(train("x.bin", 1, "--gamma 2"));
  EXPECT_EQ(value.status, 2);
  EXPECT_THAT(value.err, HasSubstr("gamma 2 is outside (0, 1]"));
  EXPECT_EQ(run(train("x.bin", 1, "--best-out " + path("best.bin"))).status, 2);
  EXPECT_EQ(run("train --env cartpole --out " + path("x.bin")).status, 2);  // --steps missing
  EXPECT_FALSE(std::filesystem::exists(path("x.bin")));
}

TEST_F(CliTrain, OnTheSimulatorTheRecipeIsTheDefaultAndEveryChoiceIsRecorded) {
  // Two seeds, each scored on a short validation scenario; the same seed gives the same file.
  const std::string small = "--steps 2048 --n-envs 2 --n-steps 1024 --quiet ";
  const std::string two = "train --env sim --seeds 2 --validation steady " + small;
  const CommandRun chosen = run(two + "--out " + path("sim-a.bin"));
  ASSERT_EQ(chosen.status, 0) << chosen.err;
  ASSERT_EQ(run(two + "--out " + path("sim-b.bin")).status, 0);
  EXPECT_EQ(read(path("sim-a.bin")), read(path("sim-b.bin")));
  const auto summary = nlohmann::json::parse(last_line(chosen.out));
  ASSERT_EQ(summary.at("candidates").size(), 2u);
  auto policy = maestro::nn::read_policy_file(path("sim-a.bin"));
  ASSERT_TRUE(policy.has_value()) << policy.error().message;
  EXPECT_EQ(policy->feature_set, "long");
  EXPECT_EQ(policy->action_set, "multi");
  EXPECT_EQ(policy->metadata.reward, "cost");
  EXPECT_EQ(policy->metadata.seed, summary.at("seed").get<std::uint64_t>());
  EXPECT_FALSE(policy->metadata.training_data.empty());
  EXPECT_THAT(policy->metadata.hyperparameters,
              ::testing::Contains(std::pair<std::string, std::string>{"chosen_on", "steady"}));

  // The seed's choices, one seed.
  const CommandRun original =
      run("train --env sim --seeds 1 --features original --actions original --reward original " + small +
          "--out " + path("sim-original.bin"));
  ASSERT_EQ(original.status, 0) << original.err;
  policy = maestro::nn::read_policy_file(path("sim-original.bin"));
  ASSERT_TRUE(policy.has_value());
  EXPECT_EQ(policy->action_names, (std::vector<std::string>{"scale_down", "hold", "scale_up"}));
  EXPECT_EQ(policy->metadata.reward, "original");
  const CommandRun weighted = run("train --env sim --seeds 1 --reward-weights slo=25,action=0.5 " + small +
                                  "--out " + path("sim-weights.bin"));
  ASSERT_EQ(weighted.status, 0) << weighted.err;
  policy = maestro::nn::read_policy_file(path("sim-weights.bin"));
  ASSERT_TRUE(policy.has_value());
  EXPECT_EQ(policy->metadata.reward_weights,
            (std::vector<std::pair<std::string, double>>{{"pods", 1}, {"slo", 25}, {"action", 0.5}}));

  for (const std::string bad : {"--reward-weights slo=x", "--reward original --reward-weights slo=1",
                                "--actions fancy", "--validation no-such-scenario --seeds 2"}) {
    const CommandRun refused = run("train --env sim " + small + bad + " --out " + path("bad.bin"));
    EXPECT_EQ(refused.status, 2) << bad << ": " << refused.err;
  }
  EXPECT_FALSE(std::filesystem::exists(path("bad.bin")));
}

// Cloning foresight first (one short DAgger round): the file records how the actor was made; cloning is
// refused where it cannot apply, before anything is written.
TEST_F(CliTrain, ImitatingForesightIsRecordedAndRefusedWhereItCannotApply) {
  const std::string small = "--steps 2048 --n-envs 2 --n-steps 1024 --seeds 1 --quiet ";
  const CommandRun cloned =
      run("train --env sim --imitate 0.5 --imitate-change-cost 150 --imitate-rounds 1 --imitate-epochs 1 " +
          small + "--out " + path("cloned.bin"));
  ASSERT_EQ(cloned.status, 0) << cloned.err;
  const auto policy = maestro::nn::read_policy_file(path("cloned.bin"));
  ASSERT_TRUE(policy.has_value()) << policy.error().message;
  using Recorded = std::pair<std::string, std::string>;
  EXPECT_THAT(policy->metadata.hyperparameters,
              ::testing::Contains(Recorded{"imitate_violation_price", "0.5"}));
  EXPECT_THAT(policy->metadata.hyperparameters, ::testing::Contains(Recorded{"imitate_change_cost", "150"}));
  for (const std::string& bad :
       std::vector<std::string>{"--env sim --imitate 0.5 --init-policy " + path("cloned.bin"),
                                "--env sim --imitate -1", "--env cartpole --imitate 0.5"}) {
    const CommandRun refused = run("train " + bad + " " + small + "--out " + path("refused.bin"));
    EXPECT_EQ(refused.status, 2) << bad << ": " << refused.err;
    EXPECT_THAT(refused.err, HasSubstr("--imitate")) << bad;
  }
  EXPECT_FALSE(std::filesystem::exists(path("refused.bin")));
}

TEST_F(CliTrain, ACartPolePolicyIsShownButNotServedAsAnAutoscaler) {
  ASSERT_EQ(run(train("cp.bin", 5)).status, 0);
  const CommandRun show = run("policy show " + path("cp.bin"));
  EXPECT_EQ(show.status, 0);
  EXPECT_THAT(show.out, HasSubstr("feature set:       cartpole"));
  EXPECT_THAT(show.out, HasSubstr("learning_rate"));
  const CommandRun predict = run("predict --policy " + path("cp.bin") +
                                 " --cpu-usage 1 --memory-usage 1 --replicas 1 --latency 1 --rps 1");
  EXPECT_EQ(predict.status, 1);
  EXPECT_THAT(predict.err, HasSubstr("not an autoscaling feature set"));
}

}  // namespace
