// Training traffic: each episode draws its own window, scale and shape, so that a policy learns the
// dynamics rather than one trace by heart. Traces replay at real time, their windows drawn only inside
// the shape's [window_start, window_end) — for the built-in traces, their training windows (splits.hpp).
#pragma once

#include <random>
#include <vector>

#include "base/error.hpp"
#include "traffic/shape.hpp"

namespace maestro::traffic {

struct Randomisation {
  std::vector<ShapeSpec> shapes;  // one is picked uniformly per episode
  double peak_scale_min = 0.5;    // the episode's peak is the shape's peak times U(min, max)
  double peak_scale_max = 1.5;
  bool random_window = true;  // trace shapes: window start uniform over [window_start, window_end − episode)
};

Result<Randomisation> validate(const Randomisation& randomisation, double duration_seconds);

// One episode's shape: a copy of one of the shapes with its window, peak, timing and noise drawn.
ShapeSpec draw_episode_shape(const Randomisation& randomisation, double duration_seconds,
                             std::mt19937_64& rng);

}  // namespace maestro::traffic
