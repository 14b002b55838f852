// The controller's YAML configuration (controller::parse_controller_config), and an HPA's YAML as
// `maestro hpa convert` reads it (controller::maestro_autoscaler_from_hpa); the first byte picks which.
// Invariant: an accepted configuration's bounds are valid (0 ≤ min ≤ max, max ≥ 1).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/scaling.hpp"
#include "services/controller/config.hpp"
#include "services/controller/hpa_conversion.hpp"

using namespace maestro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string yaml(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0:
      if (const auto config = controller::parse_controller_config(yaml)) {
        if (!core::validate(config->defaults.bounds)) std::abort();
        for (const auto& target : config->deployments)
          if (!core::validate(target.settings.bounds)) std::abort();
      }
      break;
    case 1:
      (void)controller::maestro_autoscaler_from_hpa(yaml, {});
      break;
    case 2:
      (void)controller::maestro_autoscaler_from_hpa(yaml, {"maestro-ppo", 250, 500});
      break;
  }
  return 0;
}
