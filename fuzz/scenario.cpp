// Scenario YAML files (eval::resolve_scenario with a .yaml file, no shared folder), as `maestro eval` reads
// them. An accepted scenario of up to an hour is also turned into its arrivals, which must be finite and not
// negative.
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "eval/scenario.hpp"
#include "input_file.hpp"

using namespace maestro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto scenario = eval::resolve_scenario(fuzz::input_file(data, size, ".yaml").string(), {}, {});
  if (!scenario || scenario->duration_seconds > 3600) return 0;
  for (const double arrivals : eval::scenario_arrivals(*scenario, 1))
    if (!std::isfinite(arrivals) || arrivals < 0) std::abort();
  return 0;
}
