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

}  // namespace
}  // namespace maestro::core
