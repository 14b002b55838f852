#include "services/model_server/predict_request.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>

#include <nlohmann/json.hpp>

namespace maestro::model_server {

namespace {

// JSON has no NaN or infinity, so a body holding them does not parse; this finds which field held one, so
// that the error can name it. The raw token after "field": is NaN, an infinity, or a number too large for a
// double.
std::optional<std::string> non_finite_field(std::string_view body) {
  for (const std::string_view name : core::Observation::kFieldNames) {
    const std::string quoted = fmt::format("\"{}\"", name);
    const auto at = body.find(quoted);
    if (at == std::string_view::npos) continue;
    std::size_t i = at + quoted.size();
    while (i < body.size() && (std::isspace(static_cast<unsigned char>(body[i])) || body[i] == ':')) ++i;
    std::size_t end = i;
    while (end < body.size() && body[end] != ',' && body[end] != '}' &&
           !std::isspace(static_cast<unsigned char>(body[end])))
      ++end;
    const std::string token(body.substr(i, end - i));
    std::string lower;
    for (char c : token) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "nan" || lower == "-nan") return fmt::format("field '{}' is NaN", name);
    if (lower.find("inf") != std::string::npos) return fmt::format("field '{}' is infinite", name);
    errno = 0;
    char* parsed_end = nullptr;
    const double value = std::strtod(token.c_str(), &parsed_end);
    if (!token.empty() && parsed_end == token.c_str() + token.size() && errno == ERANGE && std::isinf(value))
      return fmt::format("field '{}' is infinite (out of range for a double)", name);
  }
  return std::nullopt;
}

}  // namespace

Result<core::Observation> parse_predict_request(std::string_view body) {
  const auto document = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    if (auto field = non_finite_field(body)) return fail("{}", *field);
    return fail("body is not valid JSON");
  }
  if (!document.is_object())
    return fail("body must be a JSON object with the fields {}",
                fmt::join(core::Observation::kFieldNames, ", "));

  for (const auto& [name, value] : document.items()) {
    if (std::ranges::find(core::Observation::kFieldNames, name) == core::Observation::kFieldNames.end())
      return fail("unknown field '{}' (expected {})", name, fmt::join(core::Observation::kFieldNames, ", "));
  }
  std::array<double, core::Observation::kSize> values{};
  for (std::size_t i = 0; i < core::Observation::kSize; ++i) {
    const std::string_view name = core::Observation::kFieldNames[i];
    const auto field = document.find(name);
    if (field == document.end()) return fail("missing field '{}'", name);
    if (!field->is_number()) return fail("field '{}' must be a number, got {}", name, field->type_name());
    values[i] = field->get<double>();
  }
  // Finite and non-negative; the error names the field.
  return core::validate(core::Observation::from_values(values));
}

}  // namespace maestro::model_server
