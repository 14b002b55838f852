// The error value every library returns for failures that are normal at run time (bad input, an
// unreachable server, a missing metric). A broken invariant is an assertion, not an Error.
#pragma once

#include <expected>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace maestro {

struct Error {
  std::string message;
};

template <typename T>
using Result = std::expected<T, Error>;

// fail("replicas {} is outside [{}, {}]", r, lo, hi) -> std::unexpected<Error>
template <typename... Args>
std::unexpected<Error> fail(fmt::format_string<Args...> format, Args&&... args) {
  return std::unexpected(Error{fmt::format(format, std::forward<Args>(args)...)});
}

}  // namespace maestro

// MAESTRO_TRY(expression): if the Result `expression` failed, return its error from the enclosing function.
#define MAESTRO_TRY(expression) \
  if (auto maestro_try_ = (expression); !maestro_try_) return std::unexpected(std::move(maestro_try_).error())
// MAESTRO_TRY_BIND(name, expression): `auto name = expression;`, returning its error if it failed.
#define MAESTRO_TRY_BIND(name, expression) \
  auto name = (expression);                \
  if (!name) return std::unexpected(std::move(name).error())
