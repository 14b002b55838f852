// The body of POST /predict (DESIGN §2): a JSON object with the five observation fields, each a finite,
// non-negative number (replicas a whole one), each given once, and optionally "features", the complete
// feature vector a core::FeatureBuilder kept per deployment built for them (what a policy whose feature set
// needs history must be sent), and "cpu_request_cores", one pod's CPU request (what a policy whose actions
// are utilisation targets must be sent). Anything else is refused with a message naming the field, so that a
// caller with a typo or a unit mix-up hears about it instead of getting an action. Whether the features fit
// the policy is the policy's to check (nn::Policy).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "core/observation.hpp"

namespace maestro::model_server {

// The most replicas a request may say a deployment has: Kubernetes' spec.replicas is an int32.
inline constexpr double kMaxReplicas = 2147483647;

// The most cores a request may say one pod requests (as kube::cpu_millicores: a billion).
inline constexpr double kMaxCpuRequestCores = 1e9;

struct PredictRequest {
  core::Observation observation;
  std::optional<std::vector<double>> features;  // "features", if sent
  std::optional<double> cpu_request_cores;      // "cpu_request_cores", if sent: positive, cores per pod
};

Result<PredictRequest> parse_predict_request(std::string_view body);

}  // namespace maestro::model_server
