// Reading fields of JSON that comes from outside (the Kubernetes API, Prometheus) without exceptions.
// nlohmann's value() throws when the JSON is not an object or a field has another type than its default, so
// an answer such as {"kind": 5} would end the process; with these a field of the wrong type reads as
// absent and the caller refuses the answer as it refuses one that lacks the field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace maestro::base {

// The field `key` of `object`, if `object` is an object that has it.
inline const nlohmann::json* json_field(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// The string at `key`, or `fallback` if there is none (absent, or not a string).
inline std::string json_string(const nlohmann::json& object, const char* key, std::string fallback = "") {
  const auto* field = json_field(object, key);
  return field && field->is_string() ? field->get<std::string>() : std::move(fallback);
}

// The object at `key`, or an empty object if there is none.
inline const nlohmann::json& json_object(const nlohmann::json& object, const char* key) {
  static const nlohmann::json empty = nlohmann::json::object();
  const auto* field = json_field(object, key);
  return field && field->is_object() ? *field : empty;
}

// The array at `key`, or an empty array if there is none.
inline const nlohmann::json& json_array(const nlohmann::json& object, const char* key) {
  static const nlohmann::json empty = nlohmann::json::array();
  const auto* field = json_field(object, key);
  return field && field->is_array() ? *field : empty;
}

// The integer at `key`, if there is one.
inline std::optional<std::int64_t> json_integer(const nlohmann::json& object, const char* key) {
  const auto* field = json_field(object, key);
  if (!field || !field->is_number_integer()) return std::nullopt;
  if (field->is_number_unsigned() && field->get<std::uint64_t>() > INT64_MAX) return std::nullopt;
  return field->get<std::int64_t>();
}

}  // namespace maestro::base
