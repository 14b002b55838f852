#include "services/suggestion_server/model_client.hpp"

#include <nlohmann/json.hpp>

namespace maestro::suggestion_server {

Result<ModelAnswer> parse_model_answer(std::string_view body) {
  const auto document = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object()) return fail("model answered with something that is not a JSON object");
  const auto action = document.find("action");
  if (action == document.end() || !action->is_number_integer())
    return fail("model answer has no integer \"action\"");
  const auto decoded = core::action_from_code(action->get<int>());
  if (!decoded) return fail("model answered action {}, which is not 0, 1 or 2", action->get<int>());
  ModelAnswer answer;
  answer.action = *decoded;
  if (const auto probabilities = document.find("probabilities"); probabilities != document.end() &&
                                                                 probabilities->is_array() &&
                                                                 probabilities->size() == core::kActionCount)
    for (std::size_t i = 0; i < answer.probabilities.size(); ++i)
      if ((*probabilities)[i].is_number()) answer.probabilities[i] = (*probabilities)[i].get<double>();
  if (const auto version = document.find("model_version"); version != document.end() && version->is_string())
    answer.model_version = version->get<std::string>();
  return answer;
}

Result<ModelAnswer> HttpModelClient::predict(const core::Observation& observation) {
  nlohmann::json body = nlohmann::json::object();
  const auto values = observation.values();
  for (std::size_t i = 0; i < core::Observation::kSize; ++i)
    body[std::string(core::Observation::kFieldNames[i])] = values[i];
  auto response = http_.post("/predict", body.dump());
  if (!response) return fail("model server unreachable: {}", response.error().message);
  if (response->status != 200) {
    const auto error = nlohmann::json::parse(response->body, nullptr, false);
    const std::string why = error.is_object() && error.contains("error") && error["error"].is_string()
                                ? error["error"].get<std::string>()
                                : response->body.substr(0, 200);
    return fail("model server answered {}: {}", response->status, why);
  }
  return parse_model_answer(response->body);
}

}  // namespace maestro::suggestion_server
