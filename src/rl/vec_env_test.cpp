// DummyVecEnv semantics: reset in the same step, terminal observation kept, per-environment seeds,
// finished episodes reported, infos recorded before the reset.
#include "rl/vec_env.hpp"

#include <gtest/gtest.h>

#include "rl/cartpole.hpp"

namespace maestro::rl {
namespace {

// A scripted environment: observation = (episode seed, step in episode); terminates at step 3 when the
// action is 0, is truncated at step 5 otherwise; reports its step as "replicas".
class Counter final : public Env {
 public:
  std::size_t observation_size() const override { return 2; }
  int action_count() const override { return 2; }
  void reset(std::uint64_t seed, std::span<double> observation) override {
    seed_ = seed;
    step_ = 0;
    observation[0] = double(seed_ % 1000);
    observation[1] = 0;
  }
  StepResult step(int action, std::span<double> observation) override {
    ++step_;
    observation[0] = double(seed_ % 1000);
    observation[1] = step_;
    return {0.5, action == 0 && step_ >= 3, step_ >= 5};
  }
  std::vector<std::pair<std::string, double>> info() const override { return {{"replicas", double(step_)}}; }

 private:
  std::uint64_t seed_ = 0;
  int step_ = 0;
};

VecEnv counters(int n, std::uint64_t seed) {
  std::vector<std::unique_ptr<Env>> envs;
  for (int i = 0; i < n; ++i) envs.push_back(std::make_unique<Counter>());
  return VecEnv(std::move(envs), seed);
}

TEST(VecEnv, FirstResetSeedsEnvironmentIWithSeedPlusI) {
  auto env = counters(3, 100);
  env.reset();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(env.observation(i)[0], 100 + i);
}

TEST(VecEnv, ResetsInTheSameStepAndKeepsTheTerminalObservation) {
  auto env = counters(2, 100);
  env.reset();
  env.record_info(true);
  const std::vector<int> actions = {0, 1};  // env 0 terminates at step 3, env 1 is truncated at step 5
  for (int step = 1; step <= 2; ++step) env.step(actions);
  EXPECT_FALSE(env.done(0));
  env.step(actions);  // step 3
  ASSERT_TRUE(env.done(0));
  EXPECT_TRUE(env.terminated(0));
  EXPECT_FALSE(env.truncated(0));
  EXPECT_EQ(env.terminal_observation(0)[1], 3);  // the ended episode's last observation
  EXPECT_EQ(env.observation(0)[1], 0);           // already the next episode's first
  EXPECT_NE(env.observation(0)[0], 100);         // with a new seed from env 0's stream
  EXPECT_EQ(env.infos()[0][0].second, 3);        // info read before the reset
  ASSERT_EQ(env.finished_episodes().size(), 1u);
  EXPECT_EQ(env.finished_episodes()[0].first, 0);
  EXPECT_EQ(env.finished_episodes()[0].second.length, 3);
  EXPECT_DOUBLE_EQ(env.finished_episodes()[0].second.episode_return, 1.5);

  env.step(actions);
  env.step(actions);  // step 5 of env 1
  ASSERT_TRUE(env.done(1));
  EXPECT_TRUE(env.truncated(1));
  EXPECT_EQ(env.terminal_observation(1)[1], 5);
  EXPECT_EQ(env.observation(1)[1], 0);
}

TEST(VecEnv, SameSeedSameEpisodesOtherSeedOthers) {
  auto run = [](std::uint64_t seed) {
    std::vector<std::unique_ptr<Env>> envs;
    for (int i = 0; i < 2; ++i) envs.push_back(std::make_unique<CartPole>());
    VecEnv env(std::move(envs), seed);
    env.reset();
    std::vector<double> trace;
    const std::vector<int> actions = {1, 1};
    for (int step = 0; step < 40; ++step) {
      env.step(actions);
      trace.insert(trace.end(), env.observations().begin(), env.observations().end());
    }
    return trace;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

}  // namespace
}  // namespace maestro::rl
