// The body of POST /predict (DESIGN §2): a JSON object with the five observation fields, each a finite,
// non-negative number (replicas a whole one), each given once, and optionally "features", the complete
// feature vector a core::FeatureBuilder kept per deployment built for them (what a policy whose feature set
// needs history must be sent). Anything else is refused with a message naming the field, so that a caller
// with a typo or a unit mix-up hears about it instead of getting an action. Whether the features fit the
// policy is the policy's to check (nn::Policy).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/observation.hpp"

namespace maestro::model_server {

// The most replicas a request may say a deployment has: Kubernetes' spec.replicas is an int32.
inline constexpr double kMaxReplicas = 2147483647;

struct PredictRequest {
  core::Observation observation;
  std::optional<std::vector<double>> features;  // "features", if sent
};

Result<PredictRequest> parse_predict_request(std::string_view body);

}  // namespace maestro::model_server
