// Request-rate traces read from files: one integer a line (requests in that second, plain text or gzip,
// as ../shared/traces/nasa-http-1995.rps.gz) and the per-minute CSV of the World Cup 98 log
// (header `period,count`, as ../shared/traces/worldcup98.rpm.csv.gz). Both become a Trace: request
// counts per fixed-length sample, in time order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace maestro::traffic {

struct Trace {
  std::string name;             // the file's stem (trace_stem): how policy files and splits name the trace
  std::vector<float> counts;    // requests in each sample (exact: every count here is below 2^24)
  double sample_seconds = 1;    // length of one sample
  std::int64_t start_unix = 0;  // start of the first sample (0 when the file carries no time)
  std::size_t rows_read = 0;    // samples present in the file
  double requests_read = 0;     // requests in the samples present in the file
  std::size_t filled_gaps = 0;  // samples absent from the file, filled by linear interpolation

  double duration_seconds() const { return static_cast<double>(counts.size()) * sample_seconds; }
};

// A trace file's stem: its file name up to the first '.' ("…/nasa-http-1995.rps.gz" → "nasa-http-1995").
std::string trace_stem(std::string_view path);

// One non-negative integer a line; gzip or plain text (detected from the content).
Result<Trace> load_counts_per_second(const std::string& path);

// CSV with header `period,count`, one row a minute (`YYYY-MM-DD HH:MM:SS,count`, UTC), gzip or plain.
// Absent minutes are filled by linear interpolation between their neighbours and counted in filled_gaps.
Result<Trace> load_counts_per_minute_csv(const std::string& path);

// Either format, chosen by the first line: `period,count` means the per-minute CSV.
Result<Trace> load_trace(const std::string& path);

}  // namespace maestro::traffic
