#include "services/controller/suggestion_client.hpp"

#include <nlohmann/json.hpp>

namespace maestro::controller {

namespace {

std::unexpected<SuggestionError> failure(std::string cause, std::string message) {
  return std::unexpected(SuggestionError{{std::move(message)}, std::move(cause)});
}

}  // namespace

std::expected<Suggestion, SuggestionError> parse_suggestion(const std::string& body) {
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object())
    return failure("suggestion_malformed", "suggestion: the answer is not a JSON object");
  const auto action = json.find("action");
  if (action == json.end())
    return failure("suggestion_malformed", "suggestion: the answer has no \"action\"");
  if (!action->is_number_integer())
    return failure("suggestion_invalid_action",
                   fmt::format("suggestion: action {} is not an integer", action->dump()));
  const auto code = action->get<long long>();
  const auto parsed = code >= 0 && code <= 2 ? core::action_from_code(static_cast<int>(code)) : std::nullopt;
  if (!parsed)
    return failure("suggestion_invalid_action", fmt::format("suggestion: action {} is not 0, 1 or 2", code));
  return Suggestion{*parsed};
}

SuggestionClient::SuggestionClient(net::HttpClientOptions options) : http_(std::move(options)) {}

std::expected<Suggestion, SuggestionError> SuggestionClient::ask(const std::string& ns,
                                                                 const std::string& deployment) {
  auto response = http_.get(
      fmt::format("/suggest?deployment={}&namespace={}", net::url_encode(deployment), net::url_encode(ns)));
  if (!response) {
    const bool timeout = response.error().kind == net::HttpErrorKind::kTimeout;
    return failure(timeout ? "suggestion_timeout" : "suggestion_unreachable",
                   fmt::format("suggestion: {}", response.error().message));
  }
  if (response->status != 200) {
    // The server says why in {"error": "..."}; keep it for the log line.
    const auto json = nlohmann::json::parse(response->body, nullptr, false);
    const std::string why = json.is_object() && json.contains("error") && json["error"].is_string()
                                ? json["error"].get<std::string>()
                                : "";
    return failure(response->status == 503 ? "suggestion_unavailable" : "suggestion_status",
                   fmt::format("suggestion: HTTP {}{}", response->status, why.empty() ? "" : ": " + why));
  }
  return parse_suggestion(response->body);
}

}  // namespace maestro::controller
