// The serving API: a prediction computed independently, by hand, from a hand-set policy.
#include "nn/policy.hpp"

#include "core/action.hpp"

#include <unistd.h>
#include <filesystem>
#include <limits>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace maestro::nn {
namespace {

// Features of {cpu 150, memory 256 MiB, 2 replicas, latency 100, rps 50} with 512 MiB per pod are
// (150, 0.25, 2, 100, 50); with means (100, 0.5, 2, 50, 40) and variances (400, 0.01, 1, 2500, 100) they
// normalise to ≈ (2.5, −2.5, 0, 1, 1). Actor 5 → 2 → 3: W1 = [[.1,0,0,.2,0],[0,−.3,0,0,.5]], b1 = (0, .1),
// W2 = [[1,0],[0,1],[−1,−1]], b2 = (0, .2, 0). Worked out in double, independently of this code:
// probabilities (0.3226719237644701, 0.619424168045142, 0.057903908190388056), so the action is hold.
PolicyFile hand_set_policy() {
  PolicyFile file = untrained_autoscaling_policy(core::FeatureSpec{}, 1);
  file.network.actor = Mlp<float>(MlpShape{{5, 2, 3}});
  const std::vector<float> actor = {0.1f, 0, 0, 0.2f, 0, 0,  -0.3f, 0, 0,    0.5f, 0,
                                    0.1f, 1, 0, 0,    1, -1, -1,    0, 0.2f, 0};
  std::ranges::copy(actor, file.network.actor.parameters().begin());
  file.network.critic = Mlp<float>(MlpShape{{5, 2, 1}});
  file.normalizer.stats.mean = {100, 0.5, 2, 50, 40};
  file.normalizer.stats.var = {400, 0.01, 1, 2500, 100};
  return file;
}

const core::Observation kObservation{150, 256.0 * 1024 * 1024, 2, 100, 50};

TEST(Policy, PredictsTheHandComputedActionAndProbabilities) {
  auto policy = Policy::create(hand_set_policy());
  ASSERT_TRUE(policy.has_value()) << policy.error().message;
  const auto prediction = policy->predict(kObservation);
  ASSERT_TRUE(prediction.has_value()) << prediction.error().message;
  EXPECT_EQ(prediction->action, static_cast<int>(core::Action::kHold));
  ASSERT_EQ(prediction->probabilities.size(), 3u);
  EXPECT_NEAR(prediction->probabilities[0], 0.3226719237644701, 1e-6);
  EXPECT_NEAR(prediction->probabilities[1], 0.619424168045142, 1e-6);
  EXPECT_NEAR(prediction->probabilities[2], 0.057903908190388056, 1e-6);
  EXPECT_EQ(policy->action_set(), core::original_action_set());
}

TEST(Policy, LoadedFromDiskPredictsTheSameAndReportsItsVersion) {
  const auto path =
      std::filesystem::path(::testing::TempDir()) / ("policy_test_hand_set_" + std::to_string(::getpid()));
  ASSERT_TRUE(write_policy_file(path, hand_set_policy()).has_value());
  auto policy = load_policy(path);
  ASSERT_TRUE(policy.has_value()) << policy.error().message;
  EXPECT_EQ(policy->predict(kObservation)->action, static_cast<int>(core::Action::kHold));
  EXPECT_EQ(policy->version(), model_version(hand_set_policy()));
  EXPECT_EQ(policy->version().size(), 16u);
  EXPECT_EQ(policy->feature_spec().set, core::FeatureSet::kOriginal);
}

TEST(Policy, APolicyForAnotherEnvironmentIsNotAnAutoscalingPolicy) {
  PolicyFile cartpole;
  Rng rng(1);
  cartpole.network = initialise(ActorCriticShape{4, 2}, rng);
  cartpole.normalizer = ObservationNormalizer(4, false);
  cartpole.feature_set = "cartpole";
  cartpole.action_names = {"push_left", "push_right"};
  cartpole.metadata.environment = "cartpole";
  ASSERT_TRUE(validate(cartpole).has_value());
  auto policy = Policy::create(cartpole);
  ASSERT_FALSE(policy.has_value());
  EXPECT_NE(policy.error().message.find("not an autoscaling feature set"), std::string::npos);
  // …but its actor runs on the environment's own features.
  Actor actor(cartpole);
  const int action = actor.act(std::vector<double>{0.01, 0.0, -0.02, 0.1});
  EXPECT_TRUE(action == 0 || action == 1);
}

// An extended policy needs the deployment's history: never served from the five fields alone, and served
// from a feature vector only if it is whole, finite and built from the five fields sent with it.
TEST(Policy, AFeatureSetWithHistoryRefusesWhatDoesNotCarryIt) {
  const core::FeatureSpec spec{core::FeatureSet::kExtended, 512.0 * 1024 * 1024};
  auto policy = Policy::create(untrained_autoscaling_policy(spec, 4));
  ASSERT_TRUE(policy.has_value()) << policy.error().message;
  const auto without = policy->predict(kObservation);
  ASSERT_FALSE(without.has_value());
  EXPECT_NE(without.error().message.find("missing field 'features'"), std::string::npos);
  EXPECT_NE(without.error().message.find("extended"), std::string::npos);

  core::FeatureBuilder builder(spec);
  std::vector<double> features;
  builder.build({100, 1e8, 2, 50, 30}, {1}, features);
  builder.build(kObservation, {1}, features);
  const auto served = policy->predict(kObservation, features);
  ASSERT_TRUE(served.has_value()) << served.error().message;
  EXPECT_EQ(served->action, policy->predict_features(features).action);

  const auto error_of = [&](std::vector<double> bad) {
    const auto answer = policy->predict(kObservation, bad);
    return answer ? std::string("accepted") : answer.error().message;
  };
  EXPECT_EQ(error_of({150, 0.25, 2, 100, 50}),
            "field 'features' has 5 numbers but feature set 'extended' has 13");
  auto not_finite = features;
  not_finite[9] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(error_of(not_finite), "field 'features': features[9] is nan");
  auto other_memory = features;
  other_memory[1] = 0.5;
  EXPECT_EQ(error_of(other_memory), "field 'features': features[1] is 0.5 but memory_usage makes it 0.25");
  auto other_rps = features;
  other_rps[4] = 51;
  EXPECT_EQ(error_of(other_rps), "field 'features': features[4] is 51 but rps makes it 50");
}

TEST(Policy, AnOriginalPolicyTakesItsFiveFeaturesToo) {
  auto policy = Policy::create(hand_set_policy());
  ASSERT_TRUE(policy.has_value());
  const std::vector<double> features = {150, 0.25, 2, 100, 50};
  EXPECT_EQ(policy->predict(kObservation, features)->action, policy->predict(kObservation)->action);
  EXPECT_FALSE(policy->predict(kObservation, std::vector<double>{150, 0.25, 3, 100, 50}).has_value());
}

RC_GTEST_PROP(Policy, ProbabilitiesAreADistributionAndTheActionTheMostProbable, ()) {
  static const Policy policy = *Policy::create(untrained_autoscaling_policy(core::FeatureSpec{}, 9));
  const auto value = [] {
    return rc::gen::map(rc::gen::inRange(0, 1'000'000), [](int v) { return v / 100.0; });
  };
  const core::Observation observation{*value(), *value() * 1e6, double(*rc::gen::inRange(0, 100)), *value(),
                                      *value()};
  const Prediction prediction = *policy.predict(observation);
  RC_ASSERT(prediction.probabilities.size() == 3u);
  double sum = 0;
  for (double p : prediction.probabilities) {
    RC_ASSERT(p >= 0.0);
    sum += p;
  }
  RC_ASSERT(std::abs(sum - 1.0) < 1e-9);
  const auto action = static_cast<std::size_t>(prediction.action);
  for (double p : prediction.probabilities) RC_ASSERT(prediction.probabilities[action] >= p);
}

}  // namespace
}  // namespace maestro::nn
