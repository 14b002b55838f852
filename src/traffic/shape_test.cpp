// Traffic shapes: each shape's defining property, trace windows and scaling, noise and determinism.
#include "traffic/shape.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "traffic/randomise.hpp"

namespace maestro::traffic {
namespace {

double mean_of(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / v.size();
}

TEST(Shapes, SyntheticShapesHaveTheirDefiningForm) {
  std::mt19937_64 rng(1);
  ShapeSpec spec;
  spec.peak_rps = 200;
  spec.kind = ShapeKind::kSteady;
  EXPECT_EQ(render_rates(spec, 100, rng), std::vector<double>(100, 200.0));

  spec.kind = ShapeKind::kDiurnal;
  spec.period_seconds = 1000;
  const auto diurnal = render_rates(spec, 1000, rng);
  EXPECT_NEAR(diurnal[0], 40, 1e-9);     // trough = base fraction × peak
  EXPECT_NEAR(diurnal[500], 200, 1e-9);  // peak half a period later
  EXPECT_NEAR(diurnal[250], diurnal[750], 1e-9);

  spec.kind = ShapeKind::kRamp;
  spec.event_at_seconds = 100;
  spec.rise_seconds = 100;
  const auto ramp = render_rates(spec, 300, rng);
  EXPECT_EQ(ramp[50], 40);
  EXPECT_NEAR(ramp[150], 120, 1e-9);
  EXPECT_EQ(ramp[250], 200);

  spec.kind = ShapeKind::kFlashCrowd;
  spec.rise_seconds = 10;
  spec.hold_seconds = 50;
  spec.decay_seconds = 100;
  const auto flash = render_rates(spec, 1000, rng);
  EXPECT_EQ(flash[99], 40);
  EXPECT_EQ(flash[130], 200);
  EXPECT_NEAR(flash[260], 40 + 160 * std::exp(-1.0), 1e-9);
  EXPECT_LT(flash[999], 45);
}

TEST(Shapes, NoiseIsMultiplicativeDeterministicAndKeepsTheMean) {
  ShapeSpec spec;
  spec.kind = ShapeKind::kNoise;
  spec.peak_rps = 1000;
  spec.base_fraction = 0.5;
  spec.noise = 0.2;
  std::mt19937_64 a(7), b(7), c(8);
  const auto first = render_rates(spec, 20000, a);
  EXPECT_EQ(first, render_rates(spec, 20000, b));
  EXPECT_NE(first, render_rates(spec, 20000, c));
  EXPECT_NEAR(mean_of(first), 500, 25);
  EXPECT_TRUE(std::all_of(first.begin(), first.end(), [](double r) { return r > 0; }));
}

TEST(Shapes, TraceWindowReplaysAtRealTimeScaledToThePeak) {
  auto trace = std::make_shared<Trace>();
  trace->counts = {1, 2, 3, 4, 5, 6, 7, 8};
  ShapeSpec spec;
  spec.kind = ShapeKind::kTrace;
  spec.trace = trace;
  spec.window_start_seconds = 2;
  spec.peak_rps = 110;
  spec.rate_window_seconds = 1;  // second by second
  ASSERT_TRUE(validate(spec, 3).has_value());
  std::mt19937_64 rng(1);
  // Seconds 2, 3, 4 hold 3, 4, 5 requests; the busiest is scaled to 110.
  const auto rates = render_rates(spec, 3, rng);
  ASSERT_EQ(rates.size(), 3u);
  EXPECT_NEAR(rates[0], 3 * 110.0 / 5, 1e-9);
  EXPECT_NEAR(rates[2], 110, 1e-9);
  EXPECT_TRUE(validate(spec, 6).has_value());
  EXPECT_FALSE(validate(spec, 7).has_value());  // the window would run past the trace's end
  spec.window_end_seconds = 5;
  EXPECT_TRUE(validate(spec, 3).has_value());
  EXPECT_FALSE(validate(spec, 4).has_value());  // … or past the window's end
  spec.window_end_seconds = 9;
  EXPECT_FALSE(validate(spec, 1).has_value());  // a window end past the trace
}

// A small per-second log is replayed as its rate: a lone burst of sampling noise is spread over the rate
// window instead of becoming the run's peak.
TEST(Shapes, TraceReplaysItsRateOverTheRateWindow) {
  auto trace = std::make_shared<Trace>();
  trace->counts.assign(400, 1);
  trace->counts[200] = 21;  // one second of 21 among ones
  ShapeSpec spec;
  spec.kind = ShapeKind::kTrace;
  spec.trace = trace;
  spec.window_start_seconds = 100;
  spec.window_end_seconds = 300;
  spec.peak_rps = 100;
  std::mt19937_64 rng(1);
  const auto rates = render_rates(spec, 200, rng);
  // Around second 200 the minute holds 60 + 20 requests: the busiest rate, 80/60 a second, is the peak;
  // far from it the rate is 1 a second.
  EXPECT_NEAR(rates[100], 100, 1e-9);
  EXPECT_NEAR(rates[0], 100 * 60.0 / 80, 1e-9);  // the window's first second averages [100, 130.5)
  EXPECT_NEAR(rates[50], 100 * 60.0 / 80, 1e-9);
  EXPECT_NEAR(rates[199], 100 * 60.0 / 80, 1e-9);  // never reads past the window's end
  spec.rate_window_seconds = 1;
  EXPECT_NEAR(render_rates(spec, 200, rng)[50], 100.0 / 21, 1e-9);
  spec.rate_window_seconds = 0.5;
  EXPECT_FALSE(validate(spec, 10).has_value());
}

TEST(Shapes, PerMinuteTraceIsSpreadEvenlyOverTheMinute) {
  Trace trace;
  trace.sample_seconds = 60;
  trace.counts = {60, 120};
  EXPECT_DOUBLE_EQ(trace_requests_between(trace, 0, 1), 1);
  EXPECT_DOUBLE_EQ(trace_requests_between(trace, 59, 61), 3);
  EXPECT_DOUBLE_EQ(trace_requests_between(trace, 0, 120), 180);
}

TEST(Shapes, ArrivalsArePoissonAroundTheRate) {
  std::mt19937_64 rng(3);
  const std::vector<double> rates(20000, 50.0);
  const auto arrivals = sample_arrivals(rates, rng);
  const double mean = mean_of(arrivals);
  double variance = 0;
  for (double a : arrivals) variance += (a - mean) * (a - mean);
  variance /= arrivals.size();
  EXPECT_NEAR(mean, 50, 0.5);
  EXPECT_NEAR(variance, 50, 3);
  EXPECT_TRUE(std::all_of(arrivals.begin(), arrivals.end(), [](double a) { return a == std::floor(a); }));
}

TEST(Shapes, InvalidSpecsAreRefused) {
  ShapeSpec spec;
  spec.peak_rps = -1;
  EXPECT_FALSE(validate(spec, 10).has_value());
  spec.peak_rps = 10;
  spec.base_fraction = 1.5;
  EXPECT_FALSE(validate(spec, 10).has_value());
  spec.base_fraction = 0.5;
  spec.kind = ShapeKind::kTrace;
  EXPECT_FALSE(validate(spec, 10).has_value());  // no trace
}

TEST(Randomisation, EpisodesDifferInWindowAndScaleButStayValidAndInsideTheirWindow) {
  auto trace = std::make_shared<Trace>();
  trace->counts.assign(100000, 5);
  ShapeSpec replay;
  replay.kind = ShapeKind::kTrace;
  replay.trace = trace;
  replay.window_start_seconds = 20000;  // a training window [20000, 60000) of the trace
  replay.window_end_seconds = 60000;
  replay.peak_rps = 100;
  ShapeSpec flash;
  flash.kind = ShapeKind::kFlashCrowd;
  Randomisation randomisation{{replay, flash}};
  ASSERT_TRUE(validate(randomisation, 3000).has_value());
  std::mt19937_64 rng(11);
  std::set<double> windows, peaks;
  std::set<ShapeKind> kinds;
  for (int i = 0; i < 50; ++i) {
    const auto shape = draw_episode_shape(randomisation, 3000, rng);
    ASSERT_TRUE(validate(shape, 3000).has_value());
    kinds.insert(shape.kind);
    peaks.insert(shape.peak_rps);
    if (shape.kind == ShapeKind::kTrace) {
      windows.insert(shape.window_start_seconds);
      EXPECT_GE(shape.window_start_seconds, 20000);
      EXPECT_LE(shape.window_start_seconds + 3000, 60000);
    }
    EXPECT_GE(shape.peak_rps, 50 - 1e-9);
    EXPECT_LE(shape.peak_rps, 150 + 1e-9);
  }
  EXPECT_EQ(kinds.size(), 2u);
  EXPECT_GT(windows.size(), 5u);
  EXPECT_GT(peaks.size(), 40u);
  EXPECT_FALSE(validate(Randomisation{}, 3000).has_value());
}

}  // namespace
}  // namespace maestro::traffic
