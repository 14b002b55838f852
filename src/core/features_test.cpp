#include "core/features.hpp"

#include <gtest/gtest.h>

namespace maestro::core {
namespace {

TEST(Features, OriginalSetNormalisesMemoryByTheDeploymentsLimit) {
  FeatureBuilder builder(FeatureSpec{FeatureSet::kOriginal, 100.0});
  std::vector<double> features;
  builder.build(Observation{150, 150, 3, 42, 7}, features);
  EXPECT_EQ(features, (std::vector<double>{150, 0.5, 3, 42, 7}));
  builder.build(Observation{0, 0, 0, 0, 0}, features);  // zero replicas stays finite
  EXPECT_EQ(features, (std::vector<double>{0, 0, 0, 0, 0}));
}

TEST(Features, NamesRoundTripAndBadLimitsAreRefused) {
  EXPECT_EQ(feature_set_from_name(feature_set_name(FeatureSet::kOriginal)), FeatureSet::kOriginal);
  EXPECT_FALSE(feature_set_from_name("nonsense").has_value());
  EXPECT_FALSE(validate(FeatureSpec{FeatureSet::kOriginal, 0}).has_value());
}

TEST(Features, ExtendedSetAddsStartingPodsPerReplicaValuesAndTrends) {
  FeatureBuilder builder(FeatureSpec{FeatureSet::kExtended, 100.0});
  ASSERT_EQ(builder.size(), 13u);
  std::vector<double> f;
  builder.build(Observation{200, 100, 2, 40, 100}, DeploymentStatus{3}, f);
  EXPECT_EQ(std::vector<double>(f.begin(), f.begin() + 5), (std::vector<double>{200, 0.5, 2, 40, 100}));
  EXPECT_EQ(f[5], 3);     // starting pods
  EXPECT_EQ(f[6], 100);   // CPU per replica
  EXPECT_EQ(f[7], 50);    // rps per replica
  EXPECT_EQ(f[8], 0);     // no trend on the first step
  EXPECT_EQ(f[11], 100);  // the history is filled with the first observation
  builder.build(Observation{300, 100, 2, 70, 150}, DeploymentStatus{0}, f);
  EXPECT_DOUBLE_EQ(f[8], 0.5);  // rps +50 % over one step
  EXPECT_DOUBLE_EQ(f[10], 30);  // latency +30 ms
  EXPECT_DOUBLE_EQ(f[11], (7 * 100 + 150) / 8.0);
  EXPECT_EQ(f[12], 70);
  for (int i = 0; i < 3; ++i) builder.build(Observation{300, 100, 2, 10, 200}, DeploymentStatus{0}, f);
  EXPECT_DOUBLE_EQ(f[9], 1.0);  // 200 against 100 four steps ago
  EXPECT_EQ(f[12], 70);         // still within the last four steps
  builder.reset();
  builder.build(Observation{300, 100, 2, 10, 200}, DeploymentStatus{0}, f);
  EXPECT_EQ(f[9], 0);
  EXPECT_EQ(feature_set_from_name("extended"), FeatureSet::kExtended);
}

TEST(Features, LongSetRemembersTheBusiestStepOfEachWindowPerTodaysReplicas) {
  FeatureBuilder builder(FeatureSpec{FeatureSet::kLong, 100.0});
  ASSERT_EQ(builder.size(), 17u);
  EXPECT_EQ(history_steps(FeatureSet::kLong), 240u);
  std::vector<double> f;
  builder.build(Observation{100, 0, 2, 10, 10}, f);
  EXPECT_EQ(std::vector<double>(f.begin() + 13, f.end()), (std::vector<double>{50, 50, 50, 50}));
  builder.build(Observation{400, 0, 4, 10, 40}, f);  // a burst, on four replicas
  EXPECT_EQ(std::vector<double>(f.begin() + 13, f.begin() + 16), (std::vector<double>{100, 100, 100}));
  EXPECT_DOUBLE_EQ(f[16], (239 * 100 + 400) / 240.0 / 4);
  // 20 quiet steps push the burst out of the 5-minute window only; 40 more out of the 15-minute one.
  for (int i = 0; i < 20; ++i) builder.build(Observation{100, 0, 2, 10, 10}, f);
  EXPECT_EQ(std::vector<double>(f.begin() + 13, f.begin() + 16), (std::vector<double>{50, 200, 200}));
  for (int i = 0; i < 40; ++i) builder.build(Observation{100, 0, 2, 10, 10}, f);
  EXPECT_EQ(std::vector<double>(f.begin() + 13, f.begin() + 16), (std::vector<double>{50, 50, 200}));
  for (int i = 0; i < 180; ++i) builder.build(Observation{100, 0, 2, 10, 10}, f);
  EXPECT_EQ(std::vector<double>(f.begin() + 13, f.end()), (std::vector<double>{50, 50, 50, 50}));
  builder.build(Observation{400, 0, 4, 10, 40}, f);
  builder.reset();  // a new deployment starts from its first observation
  builder.build(Observation{100, 0, 2, 10, 10}, f);
  EXPECT_EQ(std::vector<double>(f.begin() + 13, f.end()), (std::vector<double>{50, 50, 50, 50}));
  EXPECT_EQ(feature_set_from_name("long"), FeatureSet::kLong);
}

}  // namespace
}  // namespace maestro::core
