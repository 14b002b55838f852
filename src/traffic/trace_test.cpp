// The trace loaders against the facts in ../shared/traces/README.md, and their refusals of bad files.
#include "traffic/trace.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace maestro::traffic {
namespace {

const std::string kTraces = std::string(MAESTRO_SHARED_DIR) + "/traces/";

TEST(NasaTrace, MatchesThePublishedFacts) {
  const auto trace = load_counts_per_second(kTraces + "nasa-http-1995.rps.gz");
  ASSERT_TRUE(trace.has_value()) << trace.error().message;
  EXPECT_EQ(trace->counts.size(), 5'059'950u);
  EXPECT_EQ(trace->rows_read, 5'059'950u);
  EXPECT_EQ(trace->requests_read, 3'461'610.0);
  EXPECT_EQ(*std::max_element(trace->counts.begin(), trace->counts.end()), 20.0f);
  EXPECT_NEAR(trace->requests_read / trace->duration_seconds(), 0.684, 0.0005);
  // The outage: the longest run of zero seconds, 135,851 long, from line 2,435,066.
  std::size_t longest = 0, longest_start = 0, run = 0;
  for (std::size_t i = 0; i < trace->counts.size(); ++i) {
    run = trace->counts[i] == 0 ? run + 1 : 0;
    if (run > longest) longest = run, longest_start = i + 1 - run;
  }
  EXPECT_EQ(longest, 135'851u);
  EXPECT_EQ(longest_start + 1, 2'435'066u);
  EXPECT_EQ(trace->filled_gaps, 0u);
}

TEST(WorldCupTrace, MatchesThePublishedFactsAndFillsTheTenMissingMinutes) {
  const auto trace = load_counts_per_minute_csv(kTraces + "worldcup98.rpm.csv.gz");
  ASSERT_TRUE(trace.has_value()) << trace.error().message;
  EXPECT_EQ(trace->rows_read, 125'300u);
  EXPECT_EQ(trace->requests_read, 1'352'804'107.0);
  EXPECT_EQ(trace->filled_gaps, 10u);
  EXPECT_EQ(trace->counts.size(), 125'310u);
  EXPECT_EQ(trace->sample_seconds, 60.0);
  const auto busiest = std::max_element(trace->counts.begin(), trace->counts.end());
  EXPECT_EQ(*busiest, 229'426.0f);
  // 1998-07-07 21:41 UTC is Unix 899847660.
  EXPECT_EQ(trace->start_unix + 60 * (busiest - trace->counts.begin()), 899'847'660);
  std::vector<float> present(trace->counts);
  std::nth_element(present.begin(), present.begin() + present.size() / 2, present.end());
  EXPECT_NEAR(present[present.size() / 2], 3884, 2);  // the filled minutes barely move the median
}

TEST(LoadTrace, PicksTheFormatFromTheContent) {
  const auto nasa = load_trace(kTraces + "nasa-http-1995.rps.gz");
  ASSERT_TRUE(nasa.has_value());
  EXPECT_EQ(nasa->sample_seconds, 1.0);
  const auto cup = load_trace(kTraces + "worldcup98.rpm.csv.gz");
  ASSERT_TRUE(cup.has_value());
  EXPECT_EQ(cup->sample_seconds, 60.0);
}

class TraceFile : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("maestro-trace-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                       "-" + std::to_string(files_.size()) + ".txt");
    std::ofstream(path) << text;
    files_.push_back(path);
    return path.string();
  }
  void TearDown() override {
    for (const auto& f : files_) std::filesystem::remove(f);
  }
  std::vector<std::filesystem::path> files_;
};

TEST_F(TraceFile, PlainTextIsReadAsWell) {
  const auto trace = load_counts_per_second(write("3\n0\n7\n"));
  ASSERT_TRUE(trace.has_value());
  EXPECT_EQ(trace->counts, (std::vector<float>{3, 0, 7}));
  EXPECT_EQ(trace->requests_read, 10.0);
}

TEST_F(TraceFile, BadLinesAreRefusedWithTheirLineNumber) {
  const auto trace = load_counts_per_second(write("3\n-1\n7\n"));
  ASSERT_FALSE(trace.has_value());
  EXPECT_NE(trace.error().message.find(":2:"), std::string::npos) << trace.error().message;
  EXPECT_FALSE(load_counts_per_second(write("")).has_value());
  EXPECT_FALSE(load_counts_per_second("/nonexistent/trace.gz").has_value());
}

TEST_F(TraceFile, CsvGapsAreInterpolatedAndDisorderRefused) {
  const auto trace = load_counts_per_minute_csv(
      write("period,count\n1998-05-01 00:00:00,100\n1998-05-01 00:03:00,400\n1998-05-01 00:04:00,50\n"));
  ASSERT_TRUE(trace.has_value()) << trace.error().message;
  EXPECT_EQ(trace->counts, (std::vector<float>{100, 200, 300, 400, 50}));
  EXPECT_EQ(trace->filled_gaps, 2u);
  EXPECT_EQ(trace->rows_read, 3u);
  EXPECT_FALSE(
      load_counts_per_minute_csv(write("period,count\n1998-05-01 00:01:00,1\n1998-05-01 00:00:00,1\n")));
  EXPECT_FALSE(load_counts_per_minute_csv(write("when,count\n1998-05-01 00:00:00,1\n")));
  EXPECT_FALSE(load_counts_per_minute_csv(write("period,count\n1998-05-01 00:00:30,1\n")));
}

}  // namespace
}  // namespace maestro::traffic
