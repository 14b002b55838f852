// Tests of the two readers of a POST /predict body: on every body the direct reader takes, nlohmann's SAX
// parser must say exactly the same, down to each number's bits; what the direct reader declines, it declines
// without deciding anything (the SAX reader then decides).
#include "services/model_server/predict_body.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace maestro::model_server {
namespace {

enum class Reading { kDeclined, kAgreed, kDisagreed };

// Whether the direct reader takes `text`, and if it does, whether the SAX reader takes it too and agrees.
Reading read_both(const std::string& text) {
  PredictBody plain;
  if (!read_plain_predict_body(text, plain)) return Reading::kDeclined;
  PredictBody json;
  return read_json_predict_body(text, json) && same_reading(plain, json) ? Reading::kAgreed
                                                                         : Reading::kDisagreed;
}

TEST(PredictBody, ReadsTheBodyClientsSendAsNlohmannDoes) {
  EXPECT_EQ(Reading::kAgreed,
            read_both(R"({"cpu_usage":150,"memory_usage":300000000,"replicas":3,"latency":12.5,"rps":100})"));
  EXPECT_EQ(
      Reading::kAgreed,
      read_both(" {\n\t\"rps\" : 1e5 ,\r\n \"replicas\":3.0, \"features\" : [ -0.0 , 1E+2,2e-3 ] } \n"));
  EXPECT_EQ(Reading::kAgreed, read_both(R"({"features":[],"cpu_request_cores":0.25})"));
  EXPECT_EQ(Reading::kAgreed, read_both("{}"));
  // Integers past 2^53 and past 2^64, the largest and smallest doubles, and an integer "-0" (0 to nlohmann).
  EXPECT_EQ(
      Reading::kAgreed,
      read_both(
          R"({"cpu_usage":9007199254740993,"memory_usage":-9223372036854775809,"rps":123456789012345678901234567890,)"
          R"("latency":1.7976931348623157e308,"replicas":-0,"features":[4.9e-324,-0,0,0.1,-9007199254740993]})"));
  PredictBody zero;
  ASSERT_TRUE(read_plain_predict_body(R"({"replicas":-0})", zero));
  EXPECT_FALSE(std::signbit(zero.fields[2].number));
}

TEST(PredictBody, DeclinesEverythingElse) {
  for (const std::string text : {R"({"rps":01})",
                                 R"({"rps":1.})",
                                 R"({"rps":.5})",
                                 R"({"rps":+1})",
                                 R"({"rps":1e})",
                                 R"({"rps":-})",
                                 R"({"rps":1,})",
                                 R"({"rps":1}x)",
                                 R"({"rps":1)",
                                 R"({"rps":Infinity})",
                                 R"({"rps":NaN})",
                                 R"({"rps":1e400})",
                                 R"({"rps":1e-400})",
                                 R"({"rps":1,"rps":2})",
                                 R"({"cpu":1})",
                                 R"({"rp\u0073":1})",
                                 R"({"rps":"1"})",
                                 R"({"rps":null})",
                                 R"({"rps":[1]})",
                                 R"({"features":1})",
                                 R"({"features":[1,]})",
                                 R"({"features":[[1]]})",
                                 R"({"features":["1"]})",
                                 "[1]",
                                 "1",
                                 "",
                                 "\xEF\xBB\xBF{}",
                                 R"({"rps":1}{})",
                                 "{\"rps\":1\f}",
                                 R"({"rps" 1})",
                                 R"({rps:1})"}) {
    PredictBody body;
    EXPECT_FALSE(read_plain_predict_body(text, body)) << text;
  }
  // Declined, yet JSON that the SAX reader reads (and predict_request.cpp then refuses or takes).
  PredictBody escaped;
  ASSERT_TRUE(read_json_predict_body(R"({"rp\u0073":1,"rps":2})", escaped));
  EXPECT_EQ(escaped.duplicate, "rps");
}

// A number as a client might spell it: shortest, scientific, many digits, an integer, upper-case E.
std::string spell(double value, int style) {
  switch (style) {
    case 0:
      return fmt::format("{}", value);
    case 1:
      return fmt::format("{:e}", value);
    case 2:
      return fmt::format("{:.17g}", value);
    case 3:
      return fmt::format("{}", static_cast<long long>(std::clamp(value, -9e18, 9e18)));
    default:
      return fmt::format("{:E}", value);
  }
}

rc::Gen<std::string> plain_bodies() {
  const auto number =
      rc::gen::apply([](double value, int style) { return spell(std::isfinite(value) ? value : 0.5, style); },
                     rc::gen::arbitrary<double>(), rc::gen::inRange(0, 5));
  const auto space = rc::gen::element<std::string>("", " ", "\n", "\t ", "\r\n");
  return rc::gen::apply(
      [](std::vector<std::string> values, std::vector<std::string> features, std::vector<std::string> spaces,
         std::vector<int> order) {
        std::vector<std::string> members;
        const std::array<std::string_view, kNumberFields> names = {"cpu_usage", "memory_usage", "replicas",
                                                                   "latency",   "rps",          kCpuRequest};
        const auto s = [&](std::size_t i) { return spaces[i % spaces.size()]; };
        for (std::size_t i = 0; i < names.size(); ++i)
          if (order[i] % 3 != 0)
            members.push_back(fmt::format("{}\"{}\"{}:{}{}", s(i), names[i], s(i + 1), s(i + 2), values[i]));
        if (order[names.size()] % 2 == 0)
          members.push_back(fmt::format("\"features\":[{}{}]", s(0), fmt::join(features, s(1) + "," + s(2))));
        std::ranges::sort(members, [&](const std::string& a, const std::string& b) {
          return std::hash<std::string>{}(a) < std::hash<std::string>{}(b);
        });
        return fmt::format("{}{{{}}}{}", s(3), fmt::join(members, ","), s(4));
      },
      rc::gen::container<std::vector<std::string>>(kNumberFields, number),
      rc::gen::container<std::vector<std::string>>(number),
      rc::gen::nonEmpty(rc::gen::container<std::vector<std::string>>(space)),
      rc::gen::container<std::vector<int>>(kNumberFields + 1, rc::gen::inRange(0, 6)));
}

RC_GTEST_PROP(PredictBody, BothReadersAgreeOnEveryPlainBody, ()) {
  const std::string text = *plain_bodies();
  RC_ASSERT(read_both(text) == Reading::kAgreed);
}

// A plain body with a few characters inserted, removed or replaced by ones that matter to JSON: whatever the
// direct reader still takes, the SAX reader takes too, and reads the same.
RC_GTEST_PROP(PredictBody, WhatTheDirectReaderTakesOfABrokenBodyIsJsonAndReadsTheSame, ()) {
  std::string text = *plain_bodies();
  const auto edits = *rc::gen::inRange(1, 4);
  for (int edit = 0; edit < edits; ++edit) {
    const auto at = *rc::gen::inRange<std::size_t>(0, text.size() + 1);
    const char c = *rc::gen::elementOf(std::string("{}[],:\"-+.eE0123456789 \t\n\\xafnu\x80"));
    switch (*rc::gen::inRange(0, 3)) {
      case 0:
        text.insert(at, 1, c);
        break;
      case 1:
        if (at < text.size()) text.erase(at, 1);
        break;
      default:
        if (at < text.size()) text[at] = c;
        break;
    }
  }
  RC_TAG(read_both(text) == Reading::kAgreed ? "taken" : "declined");
  RC_ASSERT(read_both(text) != Reading::kDisagreed);
}

}  // namespace
}  // namespace maestro::model_server
