#include "traffic/trace.hpp"

#include <filesystem>

#include <zlib.h>

#include <charconv>
#include <cmath>
#include <memory>
#include <optional>
#include <string_view>

namespace maestro::traffic {
namespace {

// The whole file, decompressed if it is gzip (zlib reads plain files through unchanged).
Result<std::string> read_all(const std::string& path) {
  const std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(path.c_str(), "rb"), gzclose);
  if (!file) return fail("cannot open trace file {}", path);
  gzbuffer(file.get(), 1 << 17);
  std::string text;
  constexpr std::size_t kChunk = 1 << 20;
  for (;;) {
    const std::size_t old_size = text.size();
    text.resize(old_size + kChunk);
    const int got = gzread(file.get(), text.data() + old_size, kChunk);
    if (got < 0) {
      int code = 0;
      return fail("cannot read trace file {}: {}", path, gzerror(file.get(), &code));
    }
    text.resize(old_size + static_cast<std::size_t>(got));
    if (got == 0) break;
  }
  return text;
}

// Splits `text` into lines without copying; a trailing newline does not make an empty last line.
template <typename OnLine>
Result<void> for_each_line(std::string_view text, OnLine&& on_line) {
  std::size_t line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_number;
    if (auto ok = on_line(line, line_number); !ok) return ok;
    start = end + 1;
  }
  return {};
}

Result<std::uint64_t> parse_count(std::string_view field, const std::string& path, std::size_t line_number) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (error != std::errc{} || end != field.data() + field.size() || field.empty())
    return fail("{}:{}: expected a non-negative integer request count, got '{}'", path, line_number, field);
  if (value >= (1u << 24)) return fail("{}:{}: request count {} is too large", path, line_number, value);
  return value;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// "YYYY-MM-DD HH:MM:SS" as Unix seconds (UTC).
std::optional<std::int64_t> parse_timestamp(std::string_view text) {
  if (text.size() != 19 || text[4] != '-' || text[7] != '-' || text[10] != ' ' || text[13] != ':' ||
      text[16] != ':')
    return std::nullopt;
  const auto number = [&](std::size_t at, std::size_t length) -> std::optional<int> {
    int value = 0;
    const auto [end, error] = std::from_chars(text.data() + at, text.data() + at + length, value);
    if (error != std::errc{} || end != text.data() + at + length) return std::nullopt;
    return value;
  };
  const auto year = number(0, 4), month = number(5, 2), day = number(8, 2);
  const auto hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 59)
    return std::nullopt;
  return days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day)) * 86400 +
         *hour * 3600 + *minute * 60 + *second;
}

Result<Trace> parse_counts_per_second(std::string_view text, const std::string& path) {
  Trace trace;
  trace.name = trace_stem(path);
  trace.sample_seconds = 1;
  trace.counts.reserve(text.size() / 2);
  double total = 0;
  auto parsed = for_each_line(text, [&](std::string_view line, std::size_t number) -> Result<void> {
    const auto count = parse_count(line, path, number);
    if (!count) return std::unexpected(count.error());
    trace.counts.push_back(static_cast<float>(*count));
    total += static_cast<double>(*count);
    return {};
  });
  if (!parsed) return std::unexpected(parsed.error());
  if (trace.counts.empty()) return fail("trace file {} holds no samples", path);
  trace.rows_read = trace.counts.size();
  trace.requests_read = total;
  return trace;
}

Result<Trace> parse_counts_per_minute_csv(std::string_view text, const std::string& path) {
  Trace trace;
  trace.name = trace_stem(path);
  trace.sample_seconds = 60;
  std::int64_t previous_minute = 0;
  auto parsed = for_each_line(text, [&](std::string_view line, std::size_t number) -> Result<void> {
    if (number == 1) {
      if (line != "period,count")
        return fail("{}:1: expected the header 'period,count', got '{}'", path, line);
      return {};
    }
    const auto comma = line.find(',');
    if (comma == std::string_view::npos)
      return fail("{}:{}: expected 'period,count', got '{}'", path, number, line);
    const auto at = parse_timestamp(line.substr(0, comma));
    if (!at || *at % 60 != 0)
      return fail("{}:{}: expected a minute 'YYYY-MM-DD HH:MM:00', got '{}'", path, number,
                  line.substr(0, comma));
    const auto count = parse_count(line.substr(comma + 1), path, number);
    if (!count) return std::unexpected(count.error());
    const std::int64_t minute = *at / 60;
    if (trace.counts.empty()) {
      trace.start_unix = *at;
    } else {
      if (minute <= previous_minute)
        return fail("{}:{}: rows are not in increasing time order", path, number);
      const std::int64_t gap = minute - previous_minute - 1;
      if (gap > 24 * 60) return fail("{}:{}: {} minutes are missing before this row", path, number, gap);
      const double before = trace.counts.back();
      for (std::int64_t i = 1; i <= gap; ++i) {
        const double fraction = static_cast<double>(i) / static_cast<double>(gap + 1);
        trace.counts.push_back(
            static_cast<float>(std::round(before + (static_cast<double>(*count) - before) * fraction)));
      }
      trace.filled_gaps += static_cast<std::size_t>(gap);
    }
    previous_minute = minute;
    trace.counts.push_back(static_cast<float>(*count));
    ++trace.rows_read;
    trace.requests_read += static_cast<double>(*count);
    return {};
  });
  if (!parsed) return std::unexpected(parsed.error());
  if (trace.counts.empty()) return fail("trace file {} holds no rows", path);
  return trace;
}

}  // namespace

std::string trace_stem(std::string_view path) {
  const std::string name = std::filesystem::path(path).filename().string();
  return name.substr(0, name.find('.'));
}

Result<Trace> load_counts_per_second(const std::string& path) {
  const auto text = read_all(path);
  if (!text) return std::unexpected(text.error());
  return parse_counts_per_second(*text, path);
}

Result<Trace> load_counts_per_minute_csv(const std::string& path) {
  const auto text = read_all(path);
  if (!text) return std::unexpected(text.error());
  return parse_counts_per_minute_csv(*text, path);
}

Result<Trace> load_trace(const std::string& path) {
  const auto text = read_all(path);
  if (!text) return std::unexpected(text.error());
  if (std::string_view(*text).starts_with("period,count")) return parse_counts_per_minute_csv(*text, path);
  return parse_counts_per_second(*text, path);
}

}  // namespace maestro::traffic
