#include "base/logging.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <spdlog/details/log_msg.h>
#include <nlohmann/json.hpp>

namespace maestro::base {
namespace {

nlohmann::json json_line(std::string_view message, spdlog::level::level_enum level = spdlog::level::info,
                         spdlog::log_clock::time_point at = spdlog::log_clock::time_point{}) {
  const spdlog::details::log_msg msg(at, spdlog::source_loc{}, "", level, message);
  spdlog::memory_buf_t out;
  json_log_formatter()->format(msg, out);
  const std::string text(out.data(), out.size());
  EXPECT_TRUE(text.ends_with('\n'));
  EXPECT_EQ(text.find('\n'), text.size() - 1) << "one line";
  return nlohmann::json::parse(text);
}

TEST(JsonLog, HasTimeLevelMessageAndTheMessagesFields) {
  const auto at = spdlog::log_clock::time_point(std::chrono::milliseconds(1'764'535'692'123));
  const auto line =
      json_line("decision namespace=shop deployment=web action=2 reason=\"p95 over the SLO\" result=ok",
                spdlog::level::warn, at);
  EXPECT_EQ(line["time"], "2025-11-30T20:48:12.123Z");
  EXPECT_EQ(line["level"], "warn");
  EXPECT_EQ(line["message"],
            "decision namespace=shop deployment=web action=2 reason=\"p95 over the SLO\" result=ok");
  EXPECT_EQ(line["namespace"], "shop");
  EXPECT_EQ(line["deployment"], "web");
  EXPECT_EQ(line["action"], "2");
  EXPECT_EQ(line["reason"], "p95 over the SLO");
  EXPECT_EQ(line["result"], "ok");
}

TEST(JsonLog, NeverOverwritesTimeLevelOrMessageWithAField) {
  const auto line = json_line("level=debug message=x time=0", spdlog::level::err);
  EXPECT_EQ(line["level"], "error");
  EXPECT_EQ(line["message"], "level=debug message=x time=0");
}

TEST(JsonLog, ReplacesBytesThatAreNotUtf8) {
  const auto line = json_line("path=/a\xff\xfe");
  EXPECT_EQ(line["path"], "/a\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(LogFields, ReadsQuotedValuesWithEscapesAndSkipsWords) {
  const auto fields = log_fields(R"(hold namespace=a error="said \"no\" \\ twice" =x k= tail)");
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[0], (std::pair<std::string, std::string>{"namespace", "a"}));
  EXPECT_EQ(fields[1], (std::pair<std::string, std::string>{"error", R"(said "no" \ twice)"}));
  EXPECT_EQ(fields[2], (std::pair<std::string, std::string>{"k", ""}));
}

RC_GTEST_PROP(JsonLog, AnyMessageIsOneParsableLineThatKeepsIt, (const std::string& message)) {
  const spdlog::details::log_msg msg(spdlog::log_clock::now(), spdlog::source_loc{}, "", spdlog::level::info,
                                     message);
  spdlog::memory_buf_t out;
  json_log_formatter()->format(msg, out);
  const std::string text(out.data(), out.size());
  RC_ASSERT(text.find('\n') == text.size() - 1);
  const auto line = nlohmann::json::parse(text);  // throws (fails) if not JSON
  RC_ASSERT(line["message"].is_string());
}

RC_GTEST_PROP(LogFields, QuotedValuesComeBackAsWritten, (const std::string& value)) {
  std::string quoted;
  for (const char c : value) {
    if (c == '"' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  const auto fields = log_fields("event key=\"" + quoted + "\" next=1");
  RC_ASSERT(fields.size() == 2u);
  RC_ASSERT(fields[0].second == value);
  RC_ASSERT(fields[1].second == "1");
}

TEST(LogNames, LevelsAndFormatsParseAndOthersAreRefused) {
  for (const auto& name : log_level_names()) EXPECT_TRUE(log_level_from_name(name)) << name;
  EXPECT_EQ(*log_level_from_name("warn"), spdlog::level::warn);
  EXPECT_FALSE(log_level_from_name("verbose"));
  EXPECT_EQ(*log_format_from_name("json"), LogFormat::kJson);
  EXPECT_FALSE(log_format_from_name("xml"));
}

}  // namespace
}  // namespace maestro::base
