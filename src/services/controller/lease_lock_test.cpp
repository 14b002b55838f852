// MicroTime as the Kubernetes API writes Lease times, and read back.
#include "services/controller/lease_lock.hpp"

#include <gtest/gtest.h>

namespace maestro::controller {
namespace {

using namespace std::chrono_literals;

TEST(MicroTime, IsWrittenWithSixFractionalDigitsInUtcAndReadBack) {
  const std::chrono::system_clock::time_point at =
      std::chrono::system_clock::time_point(1'700'000'000s) + 123'456us;
  EXPECT_EQ(micro_time(at), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(parse_micro_time(micro_time(at)).value(), at);
  EXPECT_EQ(parse_micro_time("2023-11-14T22:13:20Z").value(), at - 123'456us);
  EXPECT_EQ(parse_micro_time("2023-11-14T23:13:20.123456+01:00").value(), at);
  EXPECT_EQ(parse_micro_time("2023-11-14T22:13:20.123456789Z").value(), at) << "nanoseconds are cut";
  for (const char* bad :
       {"", "yesterday", "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20Zjunk", "2023-11-14 22:13:20Z",
        // beyond system_clock's range (2262): the conversion overflowed, undefined behaviour
        "99999-01-01T00:00:00Z"})
    EXPECT_FALSE(parse_micro_time(bad).has_value()) << bad;
}

}  // namespace
}  // namespace maestro::controller
