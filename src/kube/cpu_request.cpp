#include "kube/cpu_request.hpp"

#include <cmath>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "base/json_fields.hpp"

namespace maestro::kube {

std::optional<std::int64_t> cpu_millicores(const std::string& quantity) {
  if (quantity.empty()) return std::nullopt;
  double scale = 1000;  // cores to millicores
  std::string number = quantity;
  if (number.back() == 'm') {
    scale = 1;
    number.pop_back();
  } else if (number.back() == 'k') {
    scale = 1e6;
    number.pop_back();
  }
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  // A billion cores bounds any request, and keeps the conversion below (and a pod's sum) from overflowing.
  constexpr double kMaxMillicores = 1e12;
  if (number.empty() || end != number.c_str() + number.size() || !std::isfinite(value) || value < 0 ||
      value * scale > kMaxMillicores)
    return std::nullopt;
  return static_cast<std::int64_t>(std::ceil(value * scale));
}

std::optional<std::int64_t> pod_cpu_request_m(const nlohmann::json& pod_spec) {
  const nlohmann::json& containers = base::json_array(pod_spec, "containers");
  if (containers.empty()) return std::nullopt;
  std::int64_t total = 0;
  for (const auto& container : containers) {
    const nlohmann::json& resources = base::json_object(container, "resources");
    std::optional<std::int64_t> request;
    for (const char* kind : {"requests", "limits"}) {
      request = cpu_millicores(base::json_string(base::json_object(resources, kind), "cpu"));
      if (request) break;
    }
    if (!request) return std::nullopt;
    total += *request;
  }
  return total;
}

}  // namespace maestro::kube
