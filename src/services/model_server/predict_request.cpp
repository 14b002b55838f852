#include "services/model_server/predict_request.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "services/model_server/predict_body.hpp"

namespace maestro::model_server {

namespace {

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
  std::array<std::string_view, kNumberFields> names{};
  std::ranges::copy(core::Observation::kFieldNames, names.begin());
  names[kCpuRequestIndex] = kCpuRequest;
  for (const std::string_view name : names) {
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
  // The body as clients send it is read directly; any other is read again as JSON, to say what is wrong.
  PredictBody said;
  if (!read_plain_predict_body(body, said)) {
    said = PredictBody{};
    if (!read_json_predict_body(body, said)) {
      if (auto field = non_finite_field(body)) return fail("{}", *field);
      return fail("body is not valid JSON");
    }
  }
  // nlohmann would keep the last of duplicate keys; a body that says a field twice is ambiguous, so it is
  // refused.
  if (said.duplicate) return fail("field '{}' is given more than once", *said.duplicate);
  if (!said.top_level_object)
    return fail("body must be a JSON object with the fields {}",
                fmt::join(core::Observation::kFieldNames, ", "));
  if (said.first_unknown)
    return fail("unknown field '{}' (expected {}, and {} and {} if the policy needs them)",
                *said.first_unknown, fmt::join(core::Observation::kFieldNames, ", "), kFeatures, kCpuRequest);
  std::array<double, core::Observation::kSize> values{};
  for (std::size_t i = 0; i < core::Observation::kSize; ++i) {
    const std::string_view name = core::Observation::kFieldNames[i];
    const auto& field = said.fields[i];
    if (!field.given) return fail("missing field '{}'", name);
    if (field.non_number) return fail("field '{}' must be a number, got {}", name, field.non_number);
    values[i] = field.number;
  }
  // A count of pods: whole and within what Kubernetes can hold (int32), not 3.5 or 1e300.
  const double replicas = values[2];
  if (std::isfinite(replicas) && (replicas != std::floor(replicas) || replicas > kMaxReplicas))
    return fail("field 'replicas' must be a whole number of pods from 0 to {}, got {}", kMaxReplicas,
                replicas);
  // Finite and non-negative; the error names the field.
  auto observation = core::validate(core::Observation::from_values(values));
  if (!observation) return std::unexpected(observation.error());
  PredictRequest request{
      .observation = *observation, .features = std::nullopt, .cpu_request_cores = std::nullopt};
  if (const auto& cpu = said.fields[kCpuRequestIndex]; cpu.given) {
    if (cpu.non_number) return fail("field '{}' must be a number, got {}", kCpuRequest, cpu.non_number);
    if (!(cpu.number > 0 && cpu.number <= kMaxCpuRequestCores))
      return fail("field '{}' must be one pod's CPU request in cores, above 0 and at most {:g}, got {}",
                  kCpuRequest, kMaxCpuRequestCores, cpu.number);
    request.cpu_request_cores = cpu.number;
  }
  if (said.features_field.given) {
    if (said.features_field.non_number)
      return fail("field '{}' must be an array of numbers, got {}", kFeatures,
                  said.features_field.non_number);
    if (said.non_number_feature)
      return fail("field '{}': features[{}] must be a number, got {}", kFeatures,
                  said.non_number_feature->first, said.non_number_feature->second);
    request.features = std::move(said.features);
  }
  return request;
}

}  // namespace maestro::model_server
