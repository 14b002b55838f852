// The train / validation / test split of every built-in trace (DESIGN §5): one table, in trace time
// (seconds from the trace's first sample), with the calendar dates each window covers. Training samples
// only training windows; policies are chosen on validation windows; the built-in evaluation scenarios
// replay test windows. The three never overlap.
//
// NASA (nasa-http-1995, per second, the site's local time): the file concatenates the July log, which
// ends on 28 July at 13:32, and the August log without a gap, so 1 August 00:00 is second 2,381,545
// (not 31 × 86,400: the outage's zero run from line 2,435,066 is 1 August 14:52, and the daily cycle
// lines up with July's from there). Train: 1–27 July. Validation: what is left of July (28 July to
// 13:32) and 1 August until the outage — 28.4 h in all. Test: August after the outage (3 August 04:36
// to the end). The outage itself is in no window.
// World Cup 98 (worldcup98, per minute, UTC, 30 April 21:30 to 26 July 21:59): train 30 April – 20 June,
// validation 21–30 June, test 1–26 July (it holds the busiest minute, 7 July 21:41).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace maestro::traffic {

// [start_seconds, end_seconds) of trace time.
struct TraceWindow {
  double start_seconds = 0;
  double end_seconds = 0;
  std::string dates;  // what the window covers on the calendar, for people

  double length_seconds() const { return end_seconds - start_seconds; }
  bool overlaps(double from_seconds, double to_seconds) const {
    return from_seconds < end_seconds && start_seconds < to_seconds;
  }
};

// Calendar anchors the built-in scenarios start from, in trace seconds.
inline constexpr double kNasaAugust1Seconds = 2'381'545;   // 1 August 1995 00:00 (see above)
inline constexpr double kWorldCupStartUnix = 893'971'800;  // 30 April 1998 21:30 UTC, the first minute

enum class SplitPart { kTrain, kValidation, kTest };

struct TraceSplit {
  std::string trace;  // the trace file's stem ("nasa-http-1995"), as policy files record it
  std::string file;   // the file under shared/traces
  TraceWindow train, validation, test;

  const TraceWindow& part(SplitPart which) const;
};

// Every built-in trace's split.
const std::vector<TraceSplit>& trace_splits();

// The split of the trace named `trace` (Trace::name, the file's stem); nullopt for other traces.
std::optional<TraceSplit> split_for(std::string_view trace);

}  // namespace maestro::traffic
