#include "base/clock.hpp"

#include <gtest/gtest.h>

namespace maestro::base {
namespace {

TEST(ManualClock, MovesOnlyWhenTold) {
  ManualClock clock;
  const auto start = clock.now();
  EXPECT_EQ(clock.now(), start);
  clock.advance(std::chrono::seconds(15));
  EXPECT_EQ(clock.now() - start, std::chrono::seconds(15));
}

TEST(RealClock, IsMonotonic) {
  RealClock clock;
  const auto first = clock.now();
  EXPECT_LE(first, clock.now());
}

}  // namespace
}  // namespace maestro::base
