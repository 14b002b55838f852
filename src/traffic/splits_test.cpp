// The split table against the traces themselves (../shared/traces/README.md): windows inside their
// trace, in order and disjoint, the NASA outage in none of them, the World Cup's busiest minute in its
// test window, and the calendar anchors where the files put them.
#include "traffic/splits.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "traffic/trace.hpp"

namespace maestro::traffic {
namespace {

const std::string kTraces = std::string(MAESTRO_SHARED_DIR) + "/traces/";

TEST(TraceSplits, WindowsAreOrderedDisjointAndInsideTheirTrace) {
  ASSERT_EQ(trace_splits().size(), 2u);
  for (const auto& split : trace_splits()) {
    const auto trace = load_trace(kTraces + split.file);
    ASSERT_TRUE(trace.has_value()) << trace.error().message;
    EXPECT_EQ(trace->name, split.trace);
    EXPECT_EQ(split_for(split.trace)->file, split.file);
    const TraceWindow* parts[] = {&split.train, &split.validation, &split.test};
    for (const auto* part : parts) {
      EXPECT_GE(part->start_seconds, 0) << split.trace;
      EXPECT_LE(part->end_seconds, trace->duration_seconds()) << split.trace;
      EXPECT_GE(part->length_seconds(), 86400) << split.trace << ": " << part->dates;
    }
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t j = i + 1; j < 3; ++j) {
        EXPECT_FALSE(parts[i]->overlaps(parts[j]->start_seconds, parts[j]->end_seconds)) << split.trace;
        EXPECT_LE(parts[i]->end_seconds, parts[j]->start_seconds) << split.trace;  // train, validation, test
      }
  }
  EXPECT_FALSE(split_for("some-other-trace").has_value());
}

TEST(TraceSplits, NasaOutageIsInNoWindowAndAugustStartsWhereTheJulyLogEnds) {
  const auto trace = load_trace(kTraces + "nasa-http-1995.rps.gz");
  ASSERT_TRUE(trace.has_value()) << trace.error().message;
  const auto split = *split_for("nasa-http-1995");
  // The zero run of the outage: 135,851 seconds from line 2,435,066 (README).
  const std::size_t first_zero = 2'435'065, first_after = first_zero + 135'851;
  EXPECT_GT(trace->counts[first_zero - 1], 0);
  EXPECT_EQ(trace->counts[first_zero], 0);
  EXPECT_GT(trace->counts[first_after], 0);
  const double outage_start = first_zero, outage_end = first_after;
  EXPECT_EQ(split.validation.end_seconds, outage_start);
  EXPECT_EQ(split.test.start_seconds, outage_end);
  for (const auto* part : {&split.train, &split.validation, &split.test})
    EXPECT_FALSE(part->overlaps(outage_start, outage_end));
  // The outage began on 1 August at 14:52 (site time): August 1 00:00 is 14 h 52 min before it.
  EXPECT_NEAR(outage_start - kNasaAugust1Seconds, (14 * 60 + 52) * 60, 60);
  // Training is 1–27 July: 27 whole days, all before the end of the July log.
  EXPECT_EQ(split.train.end_seconds, 27 * 86400);
  EXPECT_LT(split.train.end_seconds, kNasaAugust1Seconds);
}

TEST(TraceSplits, WorldCupTestWindowHoldsTheBusiestMinute) {
  const auto trace = load_trace(kTraces + "worldcup98.rpm.csv.gz");
  ASSERT_TRUE(trace.has_value()) << trace.error().message;
  EXPECT_EQ(static_cast<double>(trace->start_unix), kWorldCupStartUnix);
  const auto split = *split_for("worldcup98");
  const auto busiest = std::max_element(trace->counts.begin(), trace->counts.end()) - trace->counts.begin();
  const double busiest_at = static_cast<double>(busiest) * trace->sample_seconds;
  EXPECT_EQ(trace->counts[busiest], 229'426.0f);
  EXPECT_EQ(kWorldCupStartUnix + busiest_at, 899'847'660.0);  // 1998-07-07 21:41 UTC
  EXPECT_TRUE(split.test.overlaps(busiest_at, busiest_at + 60));
  EXPECT_EQ(kWorldCupStartUnix + split.validation.start_seconds, 898'387'200.0);  // 21 June 00:00 UTC
  EXPECT_EQ(kWorldCupStartUnix + split.test.start_seconds, 899'251'200.0);        // 1 July 00:00 UTC
  EXPECT_EQ(split.test.end_seconds, trace->duration_seconds());
}

}  // namespace
}  // namespace maestro::traffic
