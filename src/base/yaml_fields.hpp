// Reading a YAML mapping's fields with errors that name where they are (e.g. "config.defaults.step"), for
// every configuration file a command reads. Header-only: the libraries that parse YAML link yaml-cpp.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "base/error.hpp"

namespace maestro::base {

// `node` is a mapping whose keys are all in `keys` (a misspelt key is an error, not a silent default).
inline Result<void> only_keys(const YAML::Node& node, std::string_view where,
                              std::initializer_list<std::string_view> keys) {
  if (!node.IsMap()) return fail("{}: must be a mapping", where);
  for (const auto& entry : node) {
    const auto key = entry.first.as<std::string>();
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      return fail("{}: unknown key \"{}\"", where, key);
  }
  return {};
}

// Reads node[key] into `out` if present; `out` keeps its value (the default) if not.
template <typename T>
Result<void> read(const YAML::Node& node, const char* key, std::string_view where, T& out) {
  const YAML::Node value = node[key];
  if (!value) return {};
  try {
    out = value.as<T>();
  } catch (const YAML::Exception&) {
    return fail("{}.{}: \"{}\" is not a valid value", where, key,
                value.IsScalar() ? value.Scalar() : "(not a scalar)");
  }
  return {};
}

}  // namespace maestro::base
