// The model server's client: GET /policy says what the policy needs (its feature set, and whether a request
// must carry the complete feature vector, or one pod's CPU request); POST /predict sends the five observation
// fields (DESIGN §2) and, when needed, "features" and "cpu_request_cores". Only a well-formed answer — a 200
// with an integer "action", its name, the replica change it means and the replicas it was decided for — is an
// answer; anything else is an error.
#pragma once

#include <string_view>

#include "net/http_client.hpp"
#include "services/suggestion_server/sources.hpp"

namespace maestro::suggestion_server {

// The answers in a /policy and a /predict response body; exposed for tests.
Result<PolicyNeeds> parse_policy_needs(std::string_view body);
Result<ModelAnswer> parse_model_answer(std::string_view body);

class HttpModelClient final : public ActionModel {
 public:
  // `http` is configured with the model server's base URL; it must outlive this client.
  explicit HttpModelClient(net::HttpClient& http) : http_(http) {}
  Result<PolicyNeeds> needs() override;
  Result<ModelAnswer> predict(const core::Observation& observation, std::span<const double> features,
                              std::optional<double> cpu_request_cores) override;

 private:
  net::HttpClient& http_;
};

}  // namespace maestro::suggestion_server
