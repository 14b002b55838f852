// Training traffic: each episode draws its own window, scale and shape, so that a policy learns the
// dynamics rather than one trace by heart.
#pragma once

#include <random>
#include <vector>

#include "core/error.hpp"
#include "traffic/shape.hpp"

namespace maestro::traffic {

struct Randomisation {
  std::vector<ShapeSpec> shapes;  // one is picked uniformly per episode
  double peak_scale_min = 0.5;    // the episode's peak is the shape's peak times U(min, max)
  double peak_scale_max = 1.5;
  double speedup_scale_min = 0.5;  // trace shapes: speed-up times U(min, max)
  double speedup_scale_max = 2.0;
  bool random_window = true;  // trace shapes: window start uniform over the trace
};

Result<Randomisation> validate(const Randomisation& randomisation, double duration_seconds);

// One episode's shape: a copy of one of the shapes with its window, peak, speed-up, timing and noise drawn.
ShapeSpec draw_episode_shape(const Randomisation& randomisation, double duration_seconds,
                             std::mt19937_64& rng);

}  // namespace maestro::traffic
