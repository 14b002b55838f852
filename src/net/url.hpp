// What a server reads from a URL and an address, apart from any socket: a request target split into path
// and query, query parameters (application/x-www-form-urlencoded) and listen addresses. Input comes from
// clients and command lines as sent: nothing here assumes UTF-8 or well-formed escapes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/error.hpp"

namespace maestro::net {

// The target's path (before the first '?') and query (after it, still encoded; empty without one).
std::pair<std::string_view, std::string_view> split_target(std::string_view target);

// %XX and '+' for space decoded; a malformed escape is kept as it is.
std::string percent_decode(std::string_view encoded);

// The decoded value of the first parameter of `query` whose decoded name is `name` ("" for a bare name).
std::optional<std::string> query_parameter(std::string_view query, std::string_view name);

// Parses "HOST:PORT", ":PORT" or "PORT" (host 0.0.0.0); the host may be an IPv4 or bracketed IPv6 address.
Result<std::pair<std::string, std::uint16_t>> parse_listen_address(std::string_view address);

}  // namespace maestro::net
