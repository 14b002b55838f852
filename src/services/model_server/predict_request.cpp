#include "services/model_server/predict_request.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace maestro::model_server {

namespace {

constexpr std::string_view kFeatures = "features";

// A raw number token as JSON spells it: "NaN", an infinity, or a number too large for a double are named.
std::optional<std::string> non_finite_token(std::string_view token) {
  std::string lower;
  for (char c : token) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "nan" || lower == "-nan") return "NaN";
  if (lower.find("inf") != std::string::npos) return "infinite";
  errno = 0;
  const std::string text(token);
  char* parsed_end = nullptr;
  const double value = std::strtod(text.c_str(), &parsed_end);
  if (!text.empty() && parsed_end == text.c_str() + text.size() && errno == ERANGE && std::isinf(value))
    return "infinite (out of range for a double)";
  return std::nullopt;
}

// JSON has no NaN or infinity, so a body holding them does not parse; this finds which field (or which entry
// of "features") held one, so that the error can name it.
std::optional<std::string> non_finite_field(std::string_view body) {
  const auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  // The token from `i` to the next separator.
  const auto token_at = [&](std::size_t i) {
    std::size_t end = i;
    while (end < body.size() && body[end] != ',' && body[end] != '}' && body[end] != ']' &&
           !is_space(body[end]))
      ++end;
    return body.substr(i, end - i);
  };
  const auto value_start = [&](std::string_view name) -> std::optional<std::size_t> {
    const std::string quoted = fmt::format("\"{}\"", name);
    const auto at = body.find(quoted);
    if (at == std::string_view::npos) return std::nullopt;
    std::size_t i = at + quoted.size();
    while (i < body.size() && (is_space(body[i]) || body[i] == ':')) ++i;
    return i;
  };
  for (const std::string_view name : core::Observation::kFieldNames) {
    const auto at = value_start(name);
    if (!at) continue;
    if (auto what = non_finite_token(token_at(*at))) return fmt::format("field '{}' is {}", name, *what);
  }
  if (auto at = value_start("features"); at && *at < body.size() && body[*at] == '[') {
    std::size_t i = *at + 1;
    for (std::size_t index = 0; i < body.size() && body[i] != ']'; ++index) {
      while (i < body.size() && is_space(body[i])) ++i;
      const auto token = token_at(i);
      if (auto what = non_finite_token(token))
        return fmt::format("field 'features': features[{}] is {}", index, *what);
      i += token.size();
      while (i < body.size() && (is_space(body[i]) || body[i] == ',')) ++i;
      if (token.empty()) break;
    }
  }
  return std::nullopt;
}

}  // namespace

Result<PredictRequest> parse_predict_request(std::string_view body) {
  // nlohmann keeps the last of duplicate keys; a body that says a field twice is ambiguous, so it is refused.
  std::vector<std::set<std::string>> keys_by_object;
  std::optional<std::string> duplicate;
  const auto document = nlohmann::json::parse(
      body,
      [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        using Event = nlohmann::json::parse_event_t;
        if (event == Event::object_start) keys_by_object.emplace_back();
        if (event == Event::object_end && !keys_by_object.empty()) keys_by_object.pop_back();
        if (event == Event::key && !keys_by_object.empty() &&
            !keys_by_object.back().insert(parsed.get<std::string>()).second && !duplicate)
          duplicate = parsed.get<std::string>();
        return true;
      },
      /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    if (auto field = non_finite_field(body)) return fail("{}", *field);
    return fail("body is not valid JSON");
  }
  if (duplicate) return fail("field '{}' is given more than once", *duplicate);
  if (!document.is_object())
    return fail("body must be a JSON object with the fields {}",
                fmt::join(core::Observation::kFieldNames, ", "));
  for (const auto& [name, value] : document.items()) {
    if (name != kFeatures &&
        std::ranges::find(core::Observation::kFieldNames, name) == core::Observation::kFieldNames.end())
      return fail("unknown field '{}' (expected {}, and {} if the policy needs it)", name,
                  fmt::join(core::Observation::kFieldNames, ", "), kFeatures);
  }
  std::array<double, core::Observation::kSize> values{};
  for (std::size_t i = 0; i < core::Observation::kSize; ++i) {
    const std::string_view name = core::Observation::kFieldNames[i];
    const auto field = document.find(name);
    if (field == document.end()) return fail("missing field '{}'", name);
    if (!field->is_number()) return fail("field '{}' must be a number, got {}", name, field->type_name());
    values[i] = field->get<double>();
  }
  // A count of pods: whole and within what Kubernetes can hold (int32), not 3.5 or 1e300.
  const double replicas = values[2];
  if (std::isfinite(replicas) && (replicas != std::floor(replicas) || replicas > kMaxReplicas))
    return fail("field 'replicas' must be a whole number of pods from 0 to {}, got {}", kMaxReplicas,
                replicas);
  // Finite and non-negative; the error names the field.
  auto observation = core::validate(core::Observation::from_values(values));
  if (!observation) return std::unexpected(observation.error());
  PredictRequest request{.observation = *observation, .features = std::nullopt};
  if (const auto features = document.find(kFeatures); features != document.end()) {
    if (!features->is_array())
      return fail("field '{}' must be an array of numbers, got {}", kFeatures, features->type_name());
    request.features.emplace();
    for (std::size_t i = 0; i < features->size(); ++i) {
      const auto& entry = (*features)[i];
      if (!entry.is_number())
        return fail("field '{}': features[{}] must be a number, got {}", kFeatures, i, entry.type_name());
      request.features->push_back(entry.get<double>());
    }
  }
  return request;
}

}  // namespace maestro::model_server
