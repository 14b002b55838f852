#include "core/observation.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace maestro::core {
namespace {

TEST(Observation, ValuesFollowTheContractOrder) {
  const Observation o{150, 2e8, 3, 42, 100};
  EXPECT_EQ(o.values(), (std::array<double, 5>{150, 2e8, 3, 42, 100}));
  EXPECT_EQ(Observation::from_values(o.values()).values(), o.values());
}

TEST(Observation, FiniteNonNegativeIsAccepted) {
  EXPECT_TRUE(validate(Observation{0, 0, 1, 0, 0}).has_value());
}

TEST(Observation, EachBadFieldIsNamed) {
  for (std::size_t field = 0; field < Observation::kSize; ++field) {
    for (double bad : {std::nan(""), std::numeric_limits<double>::infinity(), -1.0}) {
      auto values = Observation{10, 10, 1, 10, 10}.values();
      values[field] = bad;
      const auto result = validate(Observation::from_values(values));
      ASSERT_FALSE(result.has_value());
      EXPECT_NE(result.error().message.find(Observation::kFieldNames[field]), std::string::npos)
          << result.error().message;
    }
  }
}

}  // namespace
}  // namespace maestro::core
