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
  if (!ordered_positive(randomisation.speedup_scale_min, randomisation.speedup_scale_max))
    return fail("training traffic: speed-up scale range [{}, {}] is not positive and ordered",
                randomisation.speedup_scale_min, randomisation.speedup_scale_max);
  for (const auto& shape : randomisation.shapes) {
    ShapeSpec widest = shape;
    if (shape.kind == ShapeKind::kTrace) {
      widest.speedup = shape.speedup * randomisation.speedup_scale_max;
      if (randomisation.random_window) widest.window_start_seconds = 0;
    }
    if (auto ok = validate(widest, duration_seconds); !ok) return std::unexpected(ok.error());
  }
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
    shape.speedup *= between(randomisation.speedup_scale_min, randomisation.speedup_scale_max);
    const double span = duration_seconds * shape.speedup;
    const double latest_start = std::max(0.0, shape.trace->duration_seconds() - span);
    if (randomisation.random_window) shape.window_start_seconds = std::floor(latest_start * unit(rng));
    shape.window_start_seconds = std::min(shape.window_start_seconds, latest_start);
  } else {
    shape.event_at_seconds = between(0.1, 0.6) * duration_seconds;
    shape.period_seconds *= between(0.5, 1.5);
    shape.base_fraction = std::clamp(shape.base_fraction * between(0.5, 1.5), 0.02, 1.0);
    shape.noise = std::max(shape.noise, between(0.0, 0.15));
  }
  return shape;
}

}  // namespace maestro::traffic
