#include "traffic/shape.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace maestro::traffic {

std::string_view shape_name(ShapeKind kind) {
  switch (kind) {
    case ShapeKind::kSteady:
      return "steady";
    case ShapeKind::kDiurnal:
      return "diurnal";
    case ShapeKind::kRamp:
      return "ramp";
    case ShapeKind::kFlashCrowd:
      return "flash-crowd";
    case ShapeKind::kNoise:
      return "noise";
    case ShapeKind::kTrace:
      return "trace";
  }
  return "unknown";
}

std::optional<ShapeKind> shape_from_name(std::string_view name) {
  for (const auto kind : {ShapeKind::kSteady, ShapeKind::kDiurnal, ShapeKind::kRamp, ShapeKind::kFlashCrowd,
                          ShapeKind::kNoise, ShapeKind::kTrace})
    if (shape_name(kind) == name) return kind;
  return std::nullopt;
}

double ShapeSpec::window_limit_seconds() const {
  if (window_end_seconds > 0) return window_end_seconds;
  return trace ? trace->duration_seconds() : 0;
}

Result<ShapeSpec> validate(const ShapeSpec& spec, double duration_seconds) {
  const auto positive = [](double v) { return std::isfinite(v) && v > 0; };
  if (!positive(spec.peak_rps)) return fail("traffic: peak rps ({}) must be positive", spec.peak_rps);
  if (!(spec.base_fraction >= 0 && spec.base_fraction <= 1))
    return fail("traffic: base fraction ({}) must be within [0, 1]", spec.base_fraction);
  if (!positive(spec.period_seconds) || !positive(spec.rise_seconds) || !positive(spec.decay_seconds))
    return fail("traffic: period, rise and decay must be positive seconds");
  if (!(spec.hold_seconds >= 0) || !(spec.event_at_seconds >= 0))
    return fail("traffic: event time and hold must not be negative");
  if (!(spec.rate_window_seconds >= 1 && spec.rate_window_seconds <= 3600))
    return fail("traffic: a trace's rate window ({} s) must be within [1, 3600]", spec.rate_window_seconds);
  if (!(spec.noise >= 0 && spec.noise <= 2))
    return fail("traffic: noise ({}) must be within [0, 2]", spec.noise);
  if (!positive(duration_seconds)) return fail("traffic: duration ({} s) must be positive", duration_seconds);
  if (spec.kind == ShapeKind::kTrace) {
    if (!spec.trace) return fail("traffic: a trace shape needs a trace");
    if (spec.window_end_seconds < 0 || spec.window_end_seconds > spec.trace->duration_seconds() + 1e-9)
      return fail("traffic: window end ({} s) is outside the trace's {} s", spec.window_end_seconds,
                  spec.trace->duration_seconds());
    const double needed = spec.window_start_seconds + duration_seconds;
    if (spec.window_start_seconds < 0 || needed > spec.window_limit_seconds() + 1e-9)
      return fail("traffic: window [{}, {}) s is outside [0, {}) s of the trace", spec.window_start_seconds,
                  needed, spec.window_limit_seconds());
  }
  return spec;
}

double trace_requests_between(const Trace& trace, double from_seconds, double to_seconds) {
  const double step = trace.sample_seconds;
  const auto n = static_cast<std::int64_t>(trace.counts.size());
  double total = 0;
  auto i = static_cast<std::int64_t>(std::floor(from_seconds / step));
  for (; i < n; ++i) {
    const double begin = static_cast<double>(i) * step;
    if (begin >= to_seconds) break;
    const double overlap = std::min(to_seconds, begin + step) - std::max(from_seconds, begin);
    if (i >= 0 && overlap > 0) total += trace.counts[static_cast<std::size_t>(i)] * (overlap / step);
  }
  return total;
}

namespace {

double unit_shape(const ShapeSpec& spec, double t) {
  const double base = spec.base_fraction;
  switch (spec.kind) {
    case ShapeKind::kSteady:
      return 1;
    case ShapeKind::kNoise:
      return base;
    case ShapeKind::kDiurnal:
      // Starts at the trough, peaks half a period later.
      return base + (1 - base) * 0.5 * (1 - std::cos(2 * std::numbers::pi * t / spec.period_seconds));
    case ShapeKind::kRamp: {
      const double progress = std::clamp((t - spec.event_at_seconds) / spec.rise_seconds, 0.0, 1.0);
      return base + (1 - base) * progress;
    }
    case ShapeKind::kFlashCrowd: {
      const double since = t - spec.event_at_seconds;
      if (since < 0) return base;
      if (since < spec.rise_seconds) return base + (1 - base) * since / spec.rise_seconds;
      const double after_hold = since - spec.rise_seconds - spec.hold_seconds;
      if (after_hold < 0) return 1;
      return base + (1 - base) * std::exp(-after_hold / spec.decay_seconds);
    }
    case ShapeKind::kTrace:
      break;
  }
  return 1;
}

}  // namespace

std::vector<double> render_rates(const ShapeSpec& spec, int duration_seconds, std::mt19937_64& rng) {
  const auto n = static_cast<std::size_t>(std::max(duration_seconds, 0));
  std::vector<double> rates(n);
  if (spec.kind == ShapeKind::kTrace) {
    const double half = spec.rate_window_seconds / 2;
    double busiest = 0;
    for (std::size_t t = 0; t < n; ++t) {
      const double middle = spec.window_start_seconds + static_cast<double>(t) + 0.5;
      const double from = std::max(spec.window_start_seconds, middle - half);
      const double to = std::min(spec.window_limit_seconds(), middle + half);
      rates[t] = trace_requests_between(*spec.trace, from, to) / (to - from);
      busiest = std::max(busiest, rates[t]);
    }
    const double scale = busiest > 0 ? spec.peak_rps / busiest : 0;
    for (auto& rate : rates) rate *= scale;
  } else {
    for (std::size_t t = 0; t < n; ++t) rates[t] = spec.peak_rps * unit_shape(spec, static_cast<double>(t));
  }
  if (spec.noise > 0) {
    // AR(1) in log space with a 30 s correlation time: bursts last a while, as real traffic does.
    constexpr double kCorrelationSeconds = 30;
    const double keep = std::exp(-1.0 / kCorrelationSeconds);
    const double innovation = spec.noise * std::sqrt(1 - keep * keep);
    std::normal_distribution<double> normal(0.0, 1.0);
    double level = spec.noise * normal(rng);
    for (auto& rate : rates) {
      level = keep * level + innovation * normal(rng);
      rate *= std::exp(level - 0.5 * spec.noise * spec.noise);
    }
  }
  return rates;
}

std::vector<double> sample_arrivals(std::span<const double> rates, std::mt19937_64& rng) {
  std::vector<double> arrivals(rates.size());
  for (std::size_t t = 0; t < rates.size(); ++t) {
    if (rates[t] <= 0) continue;
    std::poisson_distribution<long> poisson(rates[t]);
    arrivals[t] = static_cast<double>(poisson(rng));
  }
  return arrivals;
}

}  // namespace maestro::traffic
