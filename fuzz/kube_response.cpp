// Answers of the Kubernetes API as the controller parses them: a Deployment, a Scale, a PodList, a
// MaestroAutoscaler, a Status error, and the quantities and times inside them. The first byte picks the
// parser. Invariants: replica counts are in [0, 2^31); an accepted autoscaler's bounds are valid
// (0 ≤ min ≤ max, max ≥ 1); CPU requests are not negative.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "core/scaling.hpp"
#include "kube/client.hpp"
#include "kube/cpu_request.hpp"
#include "services/controller/autoscaler.hpp"
#include "services/controller/lease_lock.hpp"
#include "services/controller/pod_lister.hpp"

using namespace maestro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 8) {
    case 0:
      if (const auto deployment = kube::parse_deployment(body))
        if (deployment->replicas < 0 || deployment->ready_replicas < 0) std::abort();
      break;
    case 1:
      if (const auto scale = kube::parse_scale(body))
        if (scale->replicas < 0 || scale->status_replicas < 0) std::abort();
      break;
    case 2:
      if (const auto pods = controller::parse_pod_list(body))
        for (const auto& pod : *pods)
          if (pod.cpu_request_m && *pod.cpu_request_m < 0) std::abort();
      break;
    case 3: {
      const auto object = nlohmann::json::parse(body, nullptr, false);
      if (const auto autoscaler = controller::parse_autoscaler(object)) {
        if (!core::validate(autoscaler->bounds)) std::abort();
        (void)controller::settings_for({}, *autoscaler);
      }
      break;
    }
    case 4: {
      constexpr long kStatuses[] = {400, 401, 403, 404, 409, 422, 429, 500, 503};
      const long status =
          kStatuses[static_cast<unsigned char>(body.empty() ? 0 : body[0]) % std::size(kStatuses)];
      (void)kube::error_from_response(net::Response{status, {}, body}, "fuzz");
      break;
    }
    case 5:
      if (const auto millicores = kube::cpu_millicores(body); millicores && *millicores < 0) std::abort();
      break;
    case 6:
      (void)controller::parse_kube_time(body);
      break;
    case 7:
      (void)controller::parse_micro_time(body);
      break;
  }
  return 0;
}
