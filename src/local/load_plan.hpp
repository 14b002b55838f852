// What `maestro load` sends, before any request is sent: a request rate over time — from k6-like stages
// (ramp linearly to a target over a duration, hold by repeating the target) or from per-second rates the
// traffic library renders (a trace window scaled to a peak, or a synthetic shape), so that a scenario means
// the same load simulated and live — and the open-model arrivals it implies: a Poisson process of that
// rate, whatever the service's answers.
#pragma once

#include <chrono>
#include <random>
#include <span>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace maestro::local {

struct LoadStage {
  std::chrono::milliseconds duration{0};
  double target_rps = 0;  // reached linearly by the end of the stage
};

// "30s:10,2m:10,30s:0" (k6's stages: duration:target); durations in ms, s, m or h.
Result<std::vector<LoadStage>> parse_stages(std::string_view text);

// The rate, constant over each slice of the run.
struct RatePlan {
  std::chrono::milliseconds slice{100};
  std::vector<double> rps;  // one per slice

  double duration_seconds() const;
  double expected_requests() const;
};

// Stages ramped from `start_rps`, sampled at the middle of each slice.
RatePlan plan_from_stages(std::span<const LoadStage> stages, double start_rps = 0,
                          std::chrono::milliseconds slice = std::chrono::milliseconds(100));
// One slice a second, as traffic::render_rates gives them.
RatePlan plan_from_rates(std::span<const double> per_second_rps);

// Arrival times in seconds from the start: a Poisson process of the plan's rate (exponential gaps, the
// rate piecewise constant per slice).
std::vector<double> poisson_arrivals(const RatePlan& plan, std::mt19937_64& rng);

}  // namespace maestro::local
