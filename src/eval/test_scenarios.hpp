// Scenarios the eval tests share (not used outside tests).
#pragma once

#include "eval/scenario.hpp"

namespace maestro::eval::testing {

// Half an hour at 100 requests/s with a crowd of 1,000/s from `event_at_seconds`; pods start in 30 s (± 25
// %).
inline Scenario flash_crowd(double event_at_seconds) {
  Scenario scenario;
  scenario.traffic.kind = traffic::ShapeKind::kFlashCrowd;
  scenario.traffic.peak_rps = 1000;
  scenario.traffic.base_fraction = 0.1;
  scenario.traffic.event_at_seconds = event_at_seconds;
  scenario.duration_seconds = 1800;
  scenario.cluster.startup.median_seconds = 30;
  return scenario;
}

}  // namespace maestro::eval::testing
