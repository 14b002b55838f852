#include "sim/prometheus.hpp"

#include <cassert>
#include <cmath>
#include <limits>

namespace maestro::sim {

double histogram_quantile(double q, std::span<const double> bounds, std::span<const double> cumulative) {
  assert(cumulative.size() == bounds.size() + 1 && !bounds.empty());
  const double observations = cumulative.back();
  if (!(observations > 0)) return std::numeric_limits<double>::quiet_NaN();
  const double rank = q * observations;
  std::size_t bucket = 0;
  while (bucket < bounds.size() && cumulative[bucket] < rank) ++bucket;
  if (bucket == bounds.size()) return bounds.back();  // in +Inf
  const double start = bucket > 0 ? bounds[bucket - 1] : 0;
  const double below = bucket > 0 ? cumulative[bucket - 1] : 0;
  const double in_bucket = cumulative[bucket] - below;
  if (in_bucket <= 0) return bounds[bucket];
  return start + (bounds[bucket] - start) * ((rank - below) / in_bucket);
}

double extrapolated_increase(double first_time, double first_value, double last_time, double last_value,
                             int samples, double end, double range) {
  assert(samples >= 2 && last_time > first_time);
  const double sampled = last_time - first_time;
  const double average_interval = sampled / (samples - 1);
  const double threshold = 1.1 * average_interval;
  const double to_start = first_time - (end - range), to_end = end - last_time;
  double interval = sampled;
  interval += to_start < threshold ? to_start : average_interval / 2;
  interval += to_end < threshold ? to_end : average_interval / 2;
  return (last_value - first_value) * (interval / sampled);
}

}  // namespace maestro::sim
