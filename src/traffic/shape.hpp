// Request-rate shapes: what a scenario's traffic looks like, second by second. Synthetic shapes (steady,
// diurnal, ramp, flash crowd, noise) and trace replay (a window of a Trace, sped up and scaled to a peak)
// render to the same thing: the expected requests per second for each second of the run. The
// simulator and the load generator both read this, so a scenario means the same thing simulated and live.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "traffic/trace.hpp"

namespace maestro::traffic {

enum class ShapeKind { kSteady, kDiurnal, kRamp, kFlashCrowd, kNoise, kTrace };

std::string_view shape_name(ShapeKind kind);
std::optional<ShapeKind> shape_from_name(std::string_view name);

// Every shape is a curve between `base_fraction` and 1, times `peak_rps`.
struct ShapeSpec {
  ShapeKind kind = ShapeKind::kSteady;
  double peak_rps = 100;
  double base_fraction = 0.2;     // diurnal trough, ramp start, flash-crowd baseline, noise level
  double period_seconds = 3000;   // diurnal: one day compressed into this many seconds
  double event_at_seconds = 600;  // ramp start / flash-crowd onset
  double rise_seconds = 60;       // ramp length / flash-crowd rise time
  double hold_seconds = 300;      // flash crowd: time at peak
  double decay_seconds = 600;     // flash crowd: exponential decay constant back to the base
  double noise = 0;               // relative s.d. of multiplicative noise (AR(1), 30 s correlation)
  // Trace replay at real time: sim second t is trace second window_start + t. A replay never runs past
  // window_end (0: the trace's end); randomised training windows are drawn inside [window_start, window_end).
  // There is no speed-up: compressing the traffic alone would leave pod start-up, the control interval and
  // the HPA's windows in real seconds, a different system (DESIGN §5).
  std::shared_ptr<const Trace> trace;
  double window_start_seconds = 0;
  double window_end_seconds = 0;
  // A trace is a request rate: each second replays the mean rate over this many seconds around it (never
  // reading outside [window_start, window_limit)). Per-second counts of a small log are mostly sampling
  // noise — NASA's mean is 0.68 requests/s — which scaling to hundreds of requests/s would magnify ~40×
  // into bursts no real service sees; the simulator's queues already model arrivals' randomness within a
  // second. One minute is World Cup's own granularity. 1 replays the counts second by second.
  double rate_window_seconds = 60;

  // The end of the trace window this shape may use (the trace's end when window_end_seconds is 0).
  double window_limit_seconds() const;
};

// Checks values (positive peak, fractions in [0, 1], a trace and a window inside it for kTrace: the run's
// `duration_seconds` from window_start must end by window_limit_seconds()).
Result<ShapeSpec> validate(const ShapeSpec& spec, double duration_seconds);

// Expected requests per second for each of `duration_seconds` seconds. Noise (if any) is drawn from `rng`.
// A trace window is replayed as its rate over rate_window_seconds, scaled so that its busiest second of
// that rate equals peak_rps.
std::vector<double> render_rates(const ShapeSpec& spec, int duration_seconds, std::mt19937_64& rng);

// Requests arriving in each second: Poisson draws around the expected rates.
std::vector<double> sample_arrivals(std::span<const double> rates, std::mt19937_64& rng);

// Trace requests in trace time [from, to) seconds, spreading each sample evenly over its length.
double trace_requests_between(const Trace& trace, double from_seconds, double to_seconds);

}  // namespace maestro::traffic
