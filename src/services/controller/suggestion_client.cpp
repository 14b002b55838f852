#include "services/controller/suggestion_client.hpp"

#include <cmath>

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
  if (!action->is_number_integer() || action->get<long long>() < 0 || action->get<long long>() > 1'000'000)
    return failure("suggestion_invalid_action",
                   fmt::format("suggestion: action {} is not an action index", action->dump()));
  Suggestion suggestion;
  suggestion.action = action->get<int>();
  const auto change = json.find("replica_change");
  if (change == json.end() || !change->is_object())
    return failure("suggestion_malformed", "suggestion: the answer has no \"replica_change\"");
  const auto kind = change->find("kind");
  const auto amount = change->find("amount");
  const auto decoded = kind != change->end() && kind->is_string()
                           ? core::replica_change_kind_from_name(kind->get<std::string>())
                           : std::nullopt;
  // A utilisation target arrives resolved into pods; one that did not could not be applied here (no CPU).
  if (!decoded || *decoded == core::ReplicaChange::Kind::kUtilisation || amount == change->end() ||
      !amount->is_number() || !std::isfinite(amount->get<double>()))
    return failure(
        "suggestion_invalid_action",
        fmt::format("suggestion: replica_change {} is not pods or percent by a number", change->dump()));
  suggestion.replica_change = {*decoded, amount->get<double>()};
  const auto replicas = json.find("replicas");
  if (replicas == json.end() || !replicas->is_number_integer() || replicas->get<long long>() < 0 ||
      replicas->get<long long>() > 1'000'000)
    return failure("suggestion_malformed",
                   "suggestion: the answer has no \"replicas\" (the replicas it was decided for)");
  suggestion.replicas = replicas->get<int>();
  const auto name = json.find("action_name");
  suggestion.action_name = name != json.end() && name->is_string()
                               ? name->get<std::string>()
                               : fmt::format("action {}", suggestion.action);
  const auto set = json.find("action_set");
  if (set != json.end() && set->is_string()) suggestion.action_set = set->get<std::string>();
  return suggestion;
}

SuggestionClient::SuggestionClient(net::HttpClientOptions options) : http_(std::move(options)) {}

std::expected<Suggestion, SuggestionError> SuggestionClient::ask(const std::string& ns,
                                                                 const std::string& deployment) {
  return get(
      fmt::format("/suggest?deployment={}&namespace={}", net::url_encode(deployment), net::url_encode(ns)));
}

std::expected<Suggestion, SuggestionError> SuggestionClient::ask_autoscaled(const std::string& ns,
                                                                            const std::string& target,
                                                                            const std::string& autoscaler) {
  return get(fmt::format("/suggest?deployment={}&namespace={}&autoscaler={}", net::url_encode(target),
                         net::url_encode(ns), net::url_encode(autoscaler)));
}

std::expected<Suggestion, SuggestionError> SuggestionClient::get(const std::string& path) {
  // The server drops the work for a request once this has passed: after it, nobody would read the answer.
  net::Request request;
  request.path = path;
  request.headers.emplace_back("X-Request-Timeout-Ms", std::to_string(http_.options().total_timeout.count()));
  auto response = http_.send(request);
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
