// The CartPole port against every Gymnasium 0.29.1 trajectory in shared/conformance/cartpole-v1.json:
// observations agree bit for bit (as float32), rewards and episode ends exactly.
#include "rl/cartpole.hpp"

#include <cmath>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace maestro::rl {
namespace {

nlohmann::json fixture() {
  std::ifstream in(std::string(MAESTRO_SHARED_DIR) + "/conformance/cartpole-v1.json");
  return nlohmann::json::parse(in);
}

TEST(CartPole, ReproducesEveryGymnasiumTrajectory) {
  const auto cases = fixture().at("cases");
  ASSERT_EQ(cases.size(), 12u);
  int terminated_cases = 0, truncated_cases = 0;
  for (std::size_t c = 0; c < cases.size(); ++c) {
    CartPole env;
    env.set_state(cases[c].at("initial_state").get<std::array<double, 4>>());
    std::array<double, 4> observation;
    const auto& steps = cases[c].at("steps");
    for (std::size_t s = 0; s < steps.size(); ++s) {
      const auto& expected = steps[s];
      const StepResult result = env.step(expected.at("action").get<int>(), observation);
      const auto expected_observation = expected.at("observation").get<std::array<double, 4>>();
      for (int i = 0; i < 4; ++i)
        ASSERT_EQ(observation[i], expected_observation[i])
            << "case " << c << " step " << s << " component " << i;
      ASSERT_EQ(result.reward, expected.at("reward").get<double>()) << "case " << c << " step " << s;
      ASSERT_EQ(result.terminated, expected.at("terminated").get<bool>()) << "case " << c << " step " << s;
      ASSERT_EQ(result.truncated, expected.at("truncated").get<bool>()) << "case " << c << " step " << s;
    }
    terminated_cases += steps.back().at("terminated").get<bool>();
    truncated_cases += steps.back().at("truncated").get<bool>();
  }
  EXPECT_EQ(terminated_cases, 4);
  EXPECT_EQ(truncated_cases, 8);
}

TEST(CartPole, ResetIsUniformInTheGymnasiumRangeAndReproducible) {
  CartPole a, b;
  std::array<double, 4> first, second;
  a.reset(5, first);
  b.reset(5, second);
  EXPECT_EQ(first, second);
  for (double v : first) {
    EXPECT_GE(v, -0.05);
    EXPECT_LT(v, 0.05);
  }
  b.reset(6, second);
  EXPECT_NE(first, second);
}

}  // namespace
}  // namespace maestro::rl
