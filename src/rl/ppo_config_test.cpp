// Presets, YAML hyperparameters and their round trip through the policy file's text form.
#include "rl/ppo_config.hpp"

#include <gtest/gtest.h>

namespace maestro::rl {
namespace {

TEST(PpoConfig, DefaultsAreSb3s) {
  const PpoConfig c = *preset("sb3");
  EXPECT_EQ(c.n_steps, 2048);
  EXPECT_EQ(c.batch_size, 64);
  EXPECT_EQ(c.n_epochs, 10);
  EXPECT_EQ(c.learning_rate, (Schedule{3e-4, false}));
  EXPECT_EQ(c.clip_range, (Schedule{0.2, false}));
  EXPECT_EQ(c.ent_coef, 0.0);
  EXPECT_EQ(c.vf_coef, 0.5);
  EXPECT_EQ(c.max_grad_norm, 0.5);
  EXPECT_EQ(c.gamma, 0.99);
  EXPECT_EQ(c.gae_lambda, 0.95);
  EXPECT_EQ(c.adam_eps, 1e-5);
  EXPECT_FALSE(c.clip_range_vf.has_value());
  EXPECT_FALSE(c.target_kl.has_value());
}

TEST(PpoConfig, PresetsOfRlZooAndTheOriginalProject) {
  const PpoConfig zoo = *preset("rl-zoo-cartpole");
  EXPECT_EQ(zoo.n_envs, 8);
  EXPECT_EQ(zoo.n_steps, 32);
  EXPECT_EQ(zoo.batch_size, 256);
  EXPECT_EQ(zoo.n_epochs, 20);
  EXPECT_EQ(zoo.gamma, 0.98);
  EXPECT_EQ(zoo.gae_lambda, 0.8);
  EXPECT_EQ(zoo.learning_rate, (Schedule{0.001, true}));
  EXPECT_EQ(zoo.clip_range, (Schedule{0.2, true}));
  const PpoConfig original = *preset("original");
  EXPECT_EQ(original.n_steps, 1024);
  EXPECT_EQ(original.ent_coef, 0.01);
  EXPECT_FALSE(preset("ppo2").has_value());
}

TEST(PpoConfig, LinearScheduleFollowsProgressRemaining) {
  const Schedule lin{0.001, true};
  EXPECT_DOUBLE_EQ(lin.at(1.0), 0.001);
  EXPECT_DOUBLE_EQ(lin.at(0.25), 0.00025);
  EXPECT_DOUBLE_EQ((Schedule{0.2, false}).at(0.25), 0.2);
  EXPECT_EQ(*Schedule::parse("lin_0.001"), lin);
  EXPECT_FALSE(Schedule::parse("fast").has_value());
}

TEST(PpoConfig, YamlOverridesAndRefusesUnknownOrBadValues) {
  auto c = apply_yaml(*preset("sb3"),
                      "n_steps: 512\nlearning_rate: lin_0.0007\nclip_range_vf: 0.1\ntarget_kl: 0.02\n"
                      "actor_hidden: [32, 32]\nnormalize: true\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->n_steps, 512);
  EXPECT_EQ(c->learning_rate, (Schedule{0.0007, true}));
  EXPECT_EQ(c->clip_range_vf, (Schedule{0.1, false}));
  EXPECT_EQ(c->target_kl, 0.02);
  EXPECT_EQ(c->actor_hidden, (std::vector<int>{32, 32}));
  EXPECT_TRUE(c->normalize_observations);

  EXPECT_NE(apply_yaml(*preset("sb3"), "n_stepz: 5").error().message.find("unknown hyperparameter 'n_stepz'"),
            std::string::npos);
  EXPECT_NE(apply_yaml(*preset("sb3"), "n_steps: many").error().message.find("n_steps"), std::string::npos);
  EXPECT_FALSE(apply_yaml(*preset("sb3"), "[1, 2]").has_value());
  PpoConfig bad = *preset("sb3");
  bad.batch_size = 4096;
  EXPECT_NE(validate(bad).error().message.find("batch_size 4096 is larger than a rollout"),
            std::string::npos);
}

TEST(PpoConfig, SavedHyperparametersReadBackToTheSameConfig) {
  PpoConfig original = *preset("rl-zoo-cartpole");
  original.clip_range_vf = Schedule{0.3, false};
  original.target_kl = 0.015;
  std::string yaml;
  for (const auto& [name, value] : hyperparameters(original)) yaml += name + ": " + value + "\n";
  auto read = apply_yaml(*preset("sb3"), yaml);
  ASSERT_TRUE(read.has_value()) << read.error().message;
  EXPECT_EQ(*read, original);
}

}  // namespace
}  // namespace maestro::rl
