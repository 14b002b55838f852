#include "traffic/splits.hpp"

namespace maestro::traffic {
namespace {

constexpr double kDay = 86400;

// NASA: second 0 is 1 July 1995 00:00; the July log ends at 28 July 13:32, where August begins.
constexpr double kNasaOutageStart = 2'435'065;  // 1 August 14:52, the first second of the zero run
constexpr double kNasaOutageEnd = 2'570'916;    // 3 August 04:36, the first request after it
constexpr double kNasaEnd = 5'059'950;

constexpr double kWorldCupJune21 = 898'387'200 - kWorldCupStartUnix;
constexpr double kWorldCupJuly1 = 899'251'200 - kWorldCupStartUnix;
constexpr double kWorldCupEnd = 125'310.0 * 60;  // 26 July 22:00 (125,300 rows and 10 missing minutes)

}  // namespace

const TraceWindow& TraceSplit::part(SplitPart which) const {
  switch (which) {
    case SplitPart::kTrain:
      return train;
    case SplitPart::kValidation:
      return validation;
    case SplitPart::kTest:
      break;
  }
  return test;
}

const std::vector<TraceSplit>& trace_splits() {
  static const std::vector<TraceSplit> splits = {
      {"nasa-http-1995",
       "nasa-http-1995.rps.gz",
       {0, 27 * kDay, "1 July 1995 00:00 – 28 July 00:00"},
       {27 * kDay, kNasaOutageStart,
        "28 July 1995 00:00 – 13:32 (end of the July log), then 1 August 00:00 – 14:52 (the outage)"},
       {kNasaOutageEnd, kNasaEnd, "3 August 1995 04:36 (end of the outage) – 31 August 24:00"}},
      {"worldcup98",
       "worldcup98.rpm.csv.gz",
       {0, kWorldCupJune21, "30 April 1998 21:30 – 21 June 00:00 UTC"},
       {kWorldCupJune21, kWorldCupJuly1, "21 June 1998 00:00 – 1 July 00:00 UTC"},
       {kWorldCupJuly1, kWorldCupEnd, "1 July 1998 00:00 – 26 July 22:00 UTC"}},
  };
  return splits;
}

std::optional<TraceSplit> split_for(std::string_view trace) {
  for (const auto& split : trace_splits())
    if (split.trace == trace) return split;
  return std::nullopt;
}

}  // namespace maestro::traffic
