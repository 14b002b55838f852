#include "base/logging.hpp"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <iterator>

#include <spdlog/details/log_msg.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace maestro::base {

namespace {

struct LevelName {
  std::string_view name;
  spdlog::level::level_enum level;
};

constexpr LevelName kLevels[] = {{"trace", spdlog::level::trace},
                                 {"debug", spdlog::level::debug},
                                 {"info", spdlog::level::info},
                                 {"warn", spdlog::level::warn},
                                 {"error", spdlog::level::err}};

std::string_view json_level(spdlog::level::level_enum level) {
  for (const auto& known : kLevels)
    if (known.level == level) return known.name;
  return level == spdlog::level::critical ? "critical" : "off";
}

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

// "2026-11-30T20:54:52.123Z"
std::string rfc3339_utc(spdlog::log_clock::time_point at) {
  const auto since_epoch = at.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
  const time_t whole = static_cast<time_t>(seconds.count());
  tm utc{};
  gmtime_r(&whole, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900, utc.tm_mon + 1,
                     utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
}

class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view message(msg.payload.data(), msg.payload.size());
    nlohmann::ordered_json line = {
        {"time", rfc3339_utc(msg.time)}, {"level", json_level(msg.level)}, {"message", message}};
    for (auto& [key, value] : log_fields(message))
      if (!line.contains(key)) line[key] = std::move(value);  // never over time, level or message
    // A message may hold bytes that are not UTF-8 (a request's path): U+FFFD rather than an exception.
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonLogFormatter>(); }
};

}  // namespace

std::vector<std::string> log_format_names() {
  return {"text", "json"};
}

Result<LogFormat> log_format_from_name(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return fail("unknown log format '{}' (text or json)", name);
}

std::vector<std::string> log_level_names() {
  std::vector<std::string> names;
  for (const auto& known : kLevels) names.emplace_back(known.name);
  return names;
}

Result<spdlog::level::level_enum> log_level_from_name(std::string_view name) {
  for (const auto& known : kLevels)
    if (known.name == name) return known.level;
  return fail("unknown log level '{}' (trace, debug, info, warn or error)", name);
}

std::vector<std::pair<std::string, std::string>> log_fields(std::string_view message) {
  std::vector<std::pair<std::string, std::string>> fields;
  std::size_t at = 0;
  while (at < message.size()) {
    if (message[at] == ' ') {
      ++at;
      continue;
    }
    std::size_t key_end = at;
    while (key_end < message.size() && is_key_char(message[key_end])) ++key_end;
    const bool is_field = key_end > at && key_end < message.size() && message[key_end] == '=';
    std::size_t end = is_field ? key_end + 1 : key_end;
    std::string value;
    if (is_field && end < message.size() && message[end] == '"') {
      // A quoted value: up to the closing quote, \" and \\ unescaped.
      for (++end; end < message.size() && message[end] != '"'; ++end) {
        if (message[end] == '\\' && end + 1 < message.size()) ++end;
        value.push_back(message[end]);
      }
      if (end < message.size()) ++end;
    } else {
      const std::size_t start = end;
      while (end < message.size() && message[end] != ' ') ++end;
      value.assign(message.substr(start, end - start));
    }
    if (is_field) fields.emplace_back(std::string(message.substr(at, key_end - at)), std::move(value));
    at = std::max(end, at + 1);
  }
  return fields;
}

std::unique_ptr<spdlog::formatter> json_log_formatter() {
  return std::make_unique<JsonLogFormatter>();
}

void configure_logging(LogFormat format, spdlog::level::level_enum level) {
  auto logger = spdlog::default_logger();
  if (format == LogFormat::kJson)
    logger->set_formatter(json_log_formatter());
  else
    logger->set_formatter(std::make_unique<spdlog::pattern_formatter>());
  logger->set_level(level);
}

}  // namespace maestro::base
