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
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace maestro::model_server {

namespace {

constexpr std::string_view kFeatures = "features";
constexpr std::string_view kCpuRequest = "cpu_request_cores";
// The numeric fields: the observation's, in its order, then the CPU request.
constexpr std::size_t kNumberFields = core::Observation::kSize + 1;
constexpr std::size_t kCpuRequestIndex = core::Observation::kSize;

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

// The body's events as nlohmann's SAX parser reports them, kept as what parse_predict_request checks: the
// top-level object's fields (numbers kept, anything else by its JSON type name), "features", the first key
// given twice in any object and the alphabetically first unknown field (the order of nlohmann's object
// map, which the messages followed before). No document is built: a well-formed request allocates only
// its feature vector.
class PredictRequestEvents final : public nlohmann::json_sax<nlohmann::json> {
 public:
  struct Field {
    bool given = false;
    double number = 0;
    const char* non_number = nullptr;  // the JSON type name of a value that is no number
  };

  bool top_level_object = false;
  std::array<Field, kNumberFields> fields;  // the observation's, then the CPU request
  Field features_field;                     // non_number: "features" is not an array
  std::vector<double> features;
  std::optional<std::pair<std::size_t, const char*>> non_number_feature;  // index and type name
  std::optional<std::string> duplicate;
  std::optional<std::string> first_unknown;

  bool null() override { return value("null"); }
  bool boolean(bool) override { return value("boolean"); }
  bool number_integer(number_integer_t v) override { return number(static_cast<double>(v)); }
  bool number_unsigned(number_unsigned_t v) override { return number(static_cast<double>(v)); }
  bool number_float(number_float_t v, const string_t&) override { return number(v); }
  bool string(string_t&) override { return value("string"); }
  bool binary(binary_t&) override { return value("binary"); }

  bool start_object(std::size_t) override {
    if (depth_ == 0) top_level_object = true;
    value("object");
    ++depth_;
    if (depth_ > 1) nested_keys_.emplace_back();
    return true;
  }
  bool end_object() override {
    if (depth_ > 1) nested_keys_.pop_back();
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 1 && current_ == kFeaturesIndex && !features_field.given) {
      features_field.given = true;
      in_features_ = true;
    } else {
      value("array");
    }
    ++depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    if (depth_ == 1) in_features_ = false;
    return true;
  }

  bool key(string_t& name) override {
    if (depth_ > 1) {
      auto& keys = nested_keys_.back();
      if (!keys.insert(name).second) note_duplicate(name);
      return true;
    }
    current_ = field_index(name);
    if (current_ == kUnknownIndex) {
      if (!unknown_keys_.insert(name).second) note_duplicate(name);
      if (!first_unknown || name < *first_unknown) first_unknown = name;
    } else if (seen_[current_]) {
      note_duplicate(name);
      current_ = kRepeatedIndex;  // the first value stands; the request is refused anyway
    } else {
      seen_[current_] = true;
    }
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  static constexpr std::size_t kFeaturesIndex = kNumberFields;
  static constexpr std::size_t kUnknownIndex = kFeaturesIndex + 1;
  static constexpr std::size_t kRepeatedIndex = kFeaturesIndex + 2;

  static std::size_t field_index(std::string_view name) {
    if (name == kFeatures) return kFeaturesIndex;
    if (name == kCpuRequest) return kCpuRequestIndex;
    const auto& names = core::Observation::kFieldNames;
    const auto found = std::ranges::find(names, name);
    return found == names.end() ? kUnknownIndex : static_cast<std::size_t>(found - names.begin());
  }

  void note_duplicate(const std::string& name) {
    if (!duplicate) duplicate = name;
  }

  // A scalar, or the start of a container, at the current depth.
  bool value(const char* type_name) {
    if (in_features_ && depth_ == 2) {
      if (!non_number_feature) non_number_feature.emplace(features.size(), type_name);
      features.push_back(0);
    } else if (depth_ == 1 && current_ < kFeaturesIndex) {
      fields[current_] = Field{.given = true, .number = 0, .non_number = type_name};
    } else if (depth_ == 1 && current_ == kFeaturesIndex && !features_field.given) {
      features_field = Field{.given = true, .number = 0, .non_number = type_name};
    }
    return true;
  }
  bool number(double v) {
    if (in_features_ && depth_ == 2) {
      features.push_back(v);
    } else if (depth_ == 1 && current_ < kFeaturesIndex) {
      fields[current_] = Field{.given = true, .number = v, .non_number = nullptr};
    } else {
      value("number");  // "features" given as one number
    }
    return true;
  }

  int depth_ = 0;
  std::size_t current_ = kUnknownIndex;  // the top-level field whose value comes next
  std::array<bool, kFeaturesIndex + 1> seen_{};
  bool in_features_ = false;
  std::set<std::string> unknown_keys_;
  std::vector<std::set<std::string>> nested_keys_;  // the keys of each nested object open
};

}  // namespace

Result<PredictRequest> parse_predict_request(std::string_view body) {
  PredictRequestEvents events;
  if (!nlohmann::json::sax_parse(body, &events)) {
    if (auto field = non_finite_field(body)) return fail("{}", *field);
    return fail("body is not valid JSON");
  }
  // nlohmann would keep the last of duplicate keys; a body that says a field twice is ambiguous, so it is
  // refused.
  if (events.duplicate) return fail("field '{}' is given more than once", *events.duplicate);
  if (!events.top_level_object)
    return fail("body must be a JSON object with the fields {}",
                fmt::join(core::Observation::kFieldNames, ", "));
  if (events.first_unknown)
    return fail("unknown field '{}' (expected {}, and {} and {} if the policy needs them)",
                *events.first_unknown, fmt::join(core::Observation::kFieldNames, ", "), kFeatures,
                kCpuRequest);
  std::array<double, core::Observation::kSize> values{};
  for (std::size_t i = 0; i < core::Observation::kSize; ++i) {
    const std::string_view name = core::Observation::kFieldNames[i];
    const auto& field = events.fields[i];
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
  if (const auto& cpu = events.fields[kCpuRequestIndex]; cpu.given) {
    if (cpu.non_number) return fail("field '{}' must be a number, got {}", kCpuRequest, cpu.non_number);
    if (!(cpu.number > 0 && cpu.number <= kMaxCpuRequestCores))
      return fail("field '{}' must be one pod's CPU request in cores, above 0 and at most {:g}, got {}",
                  kCpuRequest, kMaxCpuRequestCores, cpu.number);
    request.cpu_request_cores = cpu.number;
  }
  if (events.features_field.given) {
    if (events.features_field.non_number)
      return fail("field '{}' must be an array of numbers, got {}", kFeatures,
                  events.features_field.non_number);
    if (events.non_number_feature)
      return fail("field '{}': features[{}] must be a number, got {}", kFeatures,
                  events.non_number_feature->first, events.non_number_feature->second);
    request.features = std::move(events.features);
  }
  return request;
}

}  // namespace maestro::model_server
