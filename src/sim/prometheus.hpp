// What Prometheus computes from scraped series, for the simulator's metrics: the target application's
// latency histogram buckets, `rate`'s extrapolation over a range and `histogram_quantile`'s interpolation,
// so that a simulated observation is the number the PromQL queries would return on a real cluster.
#pragma once

#include <array>
#include <span>

namespace maestro::sim {

// Upper bounds (seconds) of the target application's request-latency histogram: the numbers of
// net::HttpServerOptions::latency_buckets (src/net/http_server.hpp), copied because sim must not depend on
// net. The +Inf bucket follows them.
inline constexpr std::array<double, 24> kLatencyBucketBounds = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04,
    0.05,   0.075,   0.1,    0.15,  0.2,    0.3,   0.5,    0.75, 1,     2.5,  5,    10};

// histogram_quantile(q, buckets): `bounds` are the finite upper bounds in increasing order and `cumulative`
// the count (or rate) at or below each, then the +Inf count (one more than `bounds`). Linear within a
// bucket, the lowest bucket from 0; a rank in the +Inf bucket gives the largest finite bound. NaN when the
// +Inf count is 0 (no observations: Prometheus returns no value).
double histogram_quantile(double q, std::span<const double> bounds, std::span<const double> cumulative);

// The increase of a counter over the range (end − range, end], from the first and last samples inside it
// (at least two), extrapolated to the range's edges as Prometheus' rate() and increase() do: by the gap to
// an edge if that is under 1.1 average sample intervals, else by half an interval. The counter is taken to
// have existed before the range (no extrapolation to its zero).
double extrapolated_increase(double first_time, double first_value, double last_time, double last_value,
                             int samples, double end, double range);

}  // namespace maestro::sim
