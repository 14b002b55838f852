// Running statistics and normalisation against values computed by hand with SB3's formulas.
#include "nn/normalizer.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace maestro::nn {
namespace {

// RunningMeanStd starts at mean 0, var 1, count 1e-4. After {(1,2),(3,6)}: batch mean (2,4), var (1,4), so
// mean = 2·2/2.0001, var = (1e-4 + 2·1 + 4·1e-4·2/2.0001)/2.0001 for the first column, and so on.
TEST(RunningMeanStd, MergesBatchesAsSb3Does) {
  RunningMeanStd stats(2);
  stats.update(std::vector<double>{1, 2, 3, 6}, 2);
  EXPECT_DOUBLE_EQ(stats.count, 2.0001);
  EXPECT_NEAR(stats.mean[0], 1.9999000049997497, 1e-15);
  EXPECT_NEAR(stats.mean[1], 3.9998000099994995, 1e-15);
  EXPECT_NEAR(stats.var[0], 1.0001999800015, 1e-14);
  EXPECT_NEAR(stats.var[1], 4.000649927505624, 1e-14);

  stats.update(std::vector<double>{0, -4, 2, 10, 7, 1}, 3);
  EXPECT_DOUBLE_EQ(stats.count, 5.0001);
  EXPECT_NEAR(stats.mean[0], 2.599948001039979, 1e-14);
  EXPECT_NEAR(stats.mean[1], 2.9999400011999757, 1e-14);
  // Close to the plain mean 2.6 and variance 5.84 of {1, 3, 0, 2, 7}: the 1e-4 prior barely counts.
  EXPECT_NEAR(stats.var[0], 5.840038396528124, 1e-13);
  EXPECT_NEAR(stats.var[1], 22.399752001360046, 1e-13);
}

TEST(ObservationNormalizer, StandardisesAndClipsAtTen) {
  ObservationNormalizer normalizer(2, true);
  normalizer.update(std::vector<double>{1, 2, 3, 6}, 2);
  normalizer.update(std::vector<double>{0, -4, 2, 10, 7, 1}, 3);
  std::vector<double> out(2);
  normalizer.normalize(std::vector<double>{5, -100}, std::span<double>(out));
  EXPECT_NEAR(out[0], 0.9931453179605926, 1e-14);
  EXPECT_EQ(out[1], -10.0);  // (−100 − 3)/√22.4 ≈ −21.8, clipped
}

TEST(ObservationNormalizer, DisabledPassesObservationsThroughAndKeepsNoStatistics) {
  ObservationNormalizer normalizer(2, false);
  normalizer.update(std::vector<double>{1, 2, 3, 6}, 2);
  EXPECT_EQ(normalizer.stats.count, 1e-4);
  std::vector<float> out(2);
  normalizer.normalize(std::vector<double>{5, -100}, std::span<float>(out));
  EXPECT_EQ(out[0], 5.0f);
  EXPECT_EQ(out[1], -100.0f);
}

TEST(ObservationNormalizer, InvalidStatisticsAreRefused) {
  ObservationNormalizer normalizer(2, true);
  EXPECT_TRUE(validate(normalizer, 2).has_value());
  EXPECT_FALSE(validate(normalizer, 3).has_value());
  normalizer.stats.var[1] = -1;
  EXPECT_NE(validate(normalizer, 2).error().message.find("variance 1"), std::string::npos);
}

}  // namespace
}  // namespace maestro::nn
