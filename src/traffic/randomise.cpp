#include "traffic/randomise.hpp"

#include <algorithm>
#include <cmath>

namespace maestro::traffic {

Result<Randomisation> validate(const Randomisation& randomisation, double duration_seconds) {
  if (randomisation.shapes.empty()) return fail("training traffic: no shapes to draw from");
  const auto ordered_positive = [](double lo, double hi) { return std::isfinite(lo) && lo > 0 && hi >= lo; };
  if (!ordered_positive(randomisation.peak_scale_min, randomisation.peak_scale_max))
    return fail("training traffic: peak scale range [{}, {}] is not positive and ordered",
                randomisation.peak_scale_min, randomisation.peak_scale_max);
  for (const auto& shape : randomisation.shapes)
    if (auto ok = validate(shape, duration_seconds); !ok) return std::unexpected(ok.error());
  return randomisation;
}

ShapeSpec draw_episode_shape(const Randomisation& randomisation, double duration_seconds,
                             std::mt19937_64& rng) {
  std::uniform_int_distribution<std::size_t> pick(0, randomisation.shapes.size() - 1);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const auto between = [&](double lo, double hi) { return lo + (hi - lo) * unit(rng); };

  ShapeSpec shape = randomisation.shapes[pick(rng)];
  shape.peak_rps *= between(randomisation.peak_scale_min, randomisation.peak_scale_max);
  if (shape.kind == ShapeKind::kTrace) {
    const double earliest_start = shape.window_start_seconds;
    const double latest_start = std::max(earliest_start, shape.window_limit_seconds() - duration_seconds);
    if (randomisation.random_window)
      shape.window_start_seconds = std::floor(between(earliest_start, latest_start));
  } else {
    shape.event_at_seconds = between(0.1, 0.6) * duration_seconds;
    shape.period_seconds *= between(0.5, 1.5);
    shape.base_fraction = std::clamp(shape.base_fraction * between(0.5, 1.5), 0.02, 1.0);
    shape.noise = std::max(shape.noise, between(0.0, 0.15));
  }
  return shape;
}

}  // namespace maestro::traffic
