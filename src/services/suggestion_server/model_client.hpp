// The model server's client: POST /predict with the five observation fields (DESIGN §2), and only a
// well-formed answer — a 200 with an "action" of 0, 1 or 2 — is an answer; anything else is an error.
#pragma once

#include <string_view>

#include "net/http_client.hpp"
#include "services/suggestion_server/sources.hpp"

namespace maestro::suggestion_server {

// The model's answer in a /predict response body; exposed for tests.
Result<ModelAnswer> parse_model_answer(std::string_view body);

class HttpModelClient final : public ActionModel {
 public:
  // `http` is configured with the model server's base URL; it must outlive this client.
  explicit HttpModelClient(net::HttpClient& http) : http_(http) {}
  Result<ModelAnswer> predict(const core::Observation& observation) override;

 private:
  net::HttpClient& http_;
};

}  // namespace maestro::suggestion_server
