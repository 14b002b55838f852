#include "services/model_server/predict_body.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <set>
#include <system_error>

#include <nlohmann/json.hpp>

namespace maestro::model_server {

namespace {

constexpr std::size_t kFeaturesIndex = kNumberFields;
constexpr std::size_t kUnknownIndex = kFeaturesIndex + 1;

std::size_t field_index(std::string_view name) {
  if (name == kFeatures) return kFeaturesIndex;
  if (name == kCpuRequest) return kCpuRequestIndex;
  const auto& names = core::Observation::kFieldNames;
  const auto found = std::ranges::find(names, name);
  return found == names.end() ? kUnknownIndex : static_cast<std::size_t>(found - names.begin());
}

// A plain body read from left to right; each step says false at the first thing it does not take.
class PlainReader {
 public:
  explicit PlainReader(std::string_view text) : at_(text.data()), end_(text.data() + text.size()) {}

  bool read(PredictBody& body) {
    if (!consume('{')) return false;
    body.top_level_object = true;
    if (consume('}')) return at_end();
    std::array<bool, kFeaturesIndex + 1> seen{};
    do {
      const auto name = key();
      if (!name || !consume(':')) return false;
      const std::size_t index = field_index(*name);
      if (index == kUnknownIndex || seen[index]) return false;
      seen[index] = true;
      if (index == kFeaturesIndex) {
        body.features_field.given = true;
        if (!numbers(body.features)) return false;
      } else {
        const auto value = number();
        if (!value) return false;
        body.fields[index] = PredictBody::Field{.given = true, .number = *value, .non_number = nullptr};
      }
    } while (consume(','));
    return consume('}') && at_end();
  }

 private:
  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  void skip_space() {
    while (at_ != end_ && is_space(*at_)) ++at_;
  }
  bool consume(char c) {
    skip_space();
    if (at_ == end_ || *at_ != c) return false;
    ++at_;
    return true;
  }
  bool at_end() {
    skip_space();
    return at_ == end_;
  }
  // At least one digit.
  bool digits() {
    const char* start = at_;
    while (at_ != end_ && is_digit(*at_)) ++at_;
    return at_ != start;
  }

  // The text between the quotes. A key with an escape is not one of the known names, so it needs no decoding.
  std::optional<std::string_view> key() {
    if (!consume('"')) return std::nullopt;
    const char* start = at_;
    while (at_ != end_ && *at_ != '"') ++at_;
    if (at_ == end_) return std::nullopt;
    return std::string_view(start, static_cast<std::size_t>(at_++ - start));
  }

  // A number as JSON's grammar spells it, read to the same double as nlohmann reads it: correctly rounded,
  // and an integer's "-0" as 0. Out of a double's range: false (nlohmann refuses an overflow, and reads an
  // underflow as 0; the SAX reader does either).
  std::optional<double> number() {
    skip_space();
    const char* start = at_;
    bool integer = true;
    if (at_ != end_ && *at_ == '-') ++at_;
    if (at_ == end_) return std::nullopt;
    if (*at_ == '0')
      ++at_;
    else if (!digits())
      return std::nullopt;
    if (at_ != end_ && *at_ == '.') {
      ++at_;
      integer = false;
      if (!digits()) return std::nullopt;
    }
    if (at_ != end_ && (*at_ == 'e' || *at_ == 'E')) {
      ++at_;
      integer = false;
      if (at_ != end_ && (*at_ == '+' || *at_ == '-')) ++at_;
      if (!digits()) return std::nullopt;
    }
    double value = 0;
    const auto [parsed_end, error] = std::from_chars(start, at_, value);
    if (error != std::errc() || parsed_end != at_) return std::nullopt;
    if (integer && value == 0) value = 0;  // nlohmann reads "-0" as the integer 0
    return value;
  }

  // "[" numbers "]".
  bool numbers(std::vector<double>& out) {
    if (!consume('[')) return false;
    if (consume(']')) return true;
    do {
      const auto value = number();
      if (!value) return false;
      out.push_back(*value);
    } while (consume(','));
    return consume(']');
  }

  const char* at_;
  const char* end_;
};

// nlohmann's SAX events, kept as PredictBody keeps them. No document is built: a well-formed body allocates
// only its feature vector.
class JsonEvents final : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit JsonEvents(PredictBody& body) : body_(body) {}

  bool null() override { return value("null"); }
  bool boolean(bool) override { return value("boolean"); }
  bool number_integer(number_integer_t v) override { return number(static_cast<double>(v)); }
  bool number_unsigned(number_unsigned_t v) override { return number(static_cast<double>(v)); }
  bool number_float(number_float_t v, const string_t&) override { return number(v); }
  bool string(string_t&) override { return value("string"); }
  bool binary(binary_t&) override { return value("binary"); }

  bool start_object(std::size_t) override {
    if (depth_ == 0) body_.top_level_object = true;
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
    if (depth_ == 1 && current_ == kFeaturesIndex && !body_.features_field.given) {
      body_.features_field.given = true;
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
      if (!body_.first_unknown || name < *body_.first_unknown) body_.first_unknown = name;
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
  static constexpr std::size_t kRepeatedIndex = kFeaturesIndex + 2;

  void note_duplicate(const std::string& name) {
    if (!body_.duplicate) body_.duplicate = name;
  }

  // A scalar, or the start of a container, at the current depth.
  bool value(const char* type_name) {
    if (in_features_ && depth_ == 2) {
      if (!body_.non_number_feature) body_.non_number_feature.emplace(body_.features.size(), type_name);
      body_.features.push_back(0);
    } else if (depth_ == 1 && current_ < kFeaturesIndex) {
      body_.fields[current_] = PredictBody::Field{.given = true, .number = 0, .non_number = type_name};
    } else if (depth_ == 1 && current_ == kFeaturesIndex && !body_.features_field.given) {
      body_.features_field = PredictBody::Field{.given = true, .number = 0, .non_number = type_name};
    }
    return true;
  }
  bool number(double v) {
    if (in_features_ && depth_ == 2) {
      body_.features.push_back(v);
    } else if (depth_ == 1 && current_ < kFeaturesIndex) {
      body_.fields[current_] = PredictBody::Field{.given = true, .number = v, .non_number = nullptr};
    } else {
      value("number");  // "features" given as one number
    }
    return true;
  }

  PredictBody& body_;
  int depth_ = 0;
  std::size_t current_ = kUnknownIndex;  // the top-level field whose value comes next
  std::array<bool, kFeaturesIndex + 1> seen_{};
  bool in_features_ = false;
  std::set<std::string> unknown_keys_;
  std::vector<std::set<std::string>> nested_keys_;  // the keys of each nested object open
};

}  // namespace

bool read_plain_predict_body(std::string_view text, PredictBody& body) {
  return PlainReader(text).read(body);
}

bool read_json_predict_body(std::string_view text, PredictBody& body) {
  JsonEvents events(body);
  return nlohmann::json::sax_parse(text, &events);
}

bool same_reading(const PredictBody& a, const PredictBody& b) {
  const auto same_number = [](double x, double y) {
    return std::bit_cast<std::uint64_t>(x) == std::bit_cast<std::uint64_t>(y);
  };
  const auto same_field = [&](const PredictBody::Field& x, const PredictBody::Field& y) {
    return x.given == y.given && same_number(x.number, y.number) && x.non_number == y.non_number;
  };
  return a.top_level_object == b.top_level_object && std::ranges::equal(a.fields, b.fields, same_field) &&
         same_field(a.features_field, b.features_field) &&
         std::ranges::equal(a.features, b.features, same_number) &&
         a.non_number_feature == b.non_number_feature && a.duplicate == b.duplicate &&
         a.first_unknown == b.first_unknown;
}

}  // namespace maestro::model_server
