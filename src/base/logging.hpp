// How MAESTRO's processes log: spdlog's default logger as text (spdlog's pattern) or as JSON lines, at a
// level. A JSON line has "time" (RFC 3339, UTC, milliseconds), "level", "message" and, as string fields, the
// message's key=value pairs (logfmt: value bare or "quoted" with \" escapes), which is how the services
// write their structured lines ("decision namespace=shop deployment=web action=2 ...").
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/common.h>
#include <spdlog/formatter.h>

#include "base/error.hpp"

namespace maestro::base {

enum class LogFormat { kText, kJson };

// "text", "json".
std::vector<std::string> log_format_names();
Result<LogFormat> log_format_from_name(std::string_view name);

// "trace", "debug", "info", "warn", "error": the levels a flag may name.
std::vector<std::string> log_level_names();
Result<spdlog::level::level_enum> log_level_from_name(std::string_view name);

// The key=value pairs of a message, in order; words without '=' are not fields.
std::vector<std::pair<std::string, std::string>> log_fields(std::string_view message);

// Formats each message as one JSON line (above).
std::unique_ptr<spdlog::formatter> json_log_formatter();

// Applies `format` and `level` to spdlog's default logger (and so to every spdlog:: call).
void configure_logging(LogFormat format, spdlog::level::level_enum level);

}  // namespace maestro::base
