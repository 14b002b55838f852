#include "core/observation.hpp"

#include <cmath>

namespace maestro::core {

Result<Observation> validate(const Observation& observation) {
  const auto values = observation.values();
  for (std::size_t i = 0; i < Observation::kSize; ++i) {
    const double v = values[i];
    if (std::isnan(v)) return fail("{} is NaN", Observation::kFieldNames[i]);
    if (std::isinf(v)) return fail("{} is infinite", Observation::kFieldNames[i]);
    if (v < 0) return fail("{} is negative ({})", Observation::kFieldNames[i], v);
  }
  return observation;
}

}  // namespace maestro::core
