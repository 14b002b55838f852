// CPU requests as the HPA reads them: a quantity in millicores, and what one pod of a PodSpec requests.
// Shared by the controller's pod lister (the HPA's utilisation) and the suggestion server (what a utilisation
// target of a policy's action set is a share of).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace maestro::kube {

// A Kubernetes CPU quantity ("250m", "1", "0.5", "2k") in millicores, rounded up as the API's MilliValue();
// nullopt if it is not one (or is beyond a billion cores).
std::optional<std::int64_t> cpu_millicores(const std::string& quantity);

// The CPU request of one pod of `pod_spec` (a PodSpec: a pod's spec or a workload's spec.template.spec),
// summed over its containers, millicores; a container with a limit but no request counts its limit (the API
// server defaults one to the other); nullopt if some container has neither, or there are no containers.
std::optional<std::int64_t> pod_cpu_request_m(const nlohmann::json& pod_spec);

}  // namespace maestro::kube
