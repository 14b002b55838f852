// The report's charts: every policy asked for (not a sweep's point) in every chart, one colour per policy
// across charts, round ticks, no label beyond its chart's edge, every seed's run in the frontier chart.
#include "eval/report.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <regex>
#include <set>

#include "eval/policies.hpp"
#include "eval/scenario.hpp"

namespace maestro::eval {
namespace {

// The <svg> element whose title starts with `title`.
std::string chart(const std::string& html, const std::string& title) {
  const auto at = html.find("font-weight=\"bold\">" + title);
  if (at == std::string::npos) return "";
  const auto start = html.rfind("<svg", at);
  return html.substr(start, html.find("</svg>", at) + 6 - start);
}

double attribute(const std::string& svg, const std::string& name) {
  std::smatch match;
  EXPECT_TRUE(std::regex_search(svg, match, std::regex(" " + name + "=\"([0-9.]+)\"")));
  return std::stod(match[1]);
}

class ReportCharts : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // No shared folder needed: a synthetic scenario.
    auto scenario =
        resolve_scenario("diurnal", {std::nullopt, std::nullopt, std::nullopt, 600, std::nullopt}, {});
    ASSERT_TRUE(scenario.has_value()) << scenario.error().message;
    std::vector<PolicyEntry> policies;
    // Eleven policies asked for by name — more than the palette's ten — and a sweep's points.
    for (const auto* spec : {"hpa", "hpa:50", "hpa:80:60", "kpa", "kpa:60", "static", "static:4", "oracle",
                             "hpa:40:0", "hpa:90:0", "kpa:90", "static-sweep"}) {
      auto entries = policy_entries(spec, *scenario);
      ASSERT_TRUE(entries.has_value()) << spec;
      for (auto& entry : *entries) policies.push_back(std::move(entry));
    }
    evaluation_ = new Evaluation(evaluate(*scenario, policies, {1, 2, 3}));
    html_ = new std::string(report_html(*evaluation_));
  }
  static void TearDownTestSuite() {
    delete evaluation_;
    delete html_;
  }
  static std::vector<std::string> charts() {
    return {chart(*html_, "Replicas"), chart(*html_, "p95 latency"), chart(*html_, "Pod-hours against")};
  }
  static inline Evaluation* evaluation_ = nullptr;
  static inline std::string* html_ = nullptr;
};

TEST_F(ReportCharts, NameEveryPolicyAskedForInEveryChartInOneColourOfItsOwn) {
  std::map<std::string, std::string> colour_of;
  std::set<std::string> colours;
  for (const auto& svg : charts()) {
    ASSERT_FALSE(svg.empty());
    for (const auto& policy : evaluation_->policies) {
      if (policy.sweep_point) continue;
      std::smatch match;
      const bool named =
          std::regex_search(svg, match, std::regex("fill=\"(#[0-9a-f]{6})\">" + policy.name + "</text>"));
      ASSERT_TRUE(named) << policy.name << " is not in the chart " << svg.substr(0, 300);
      const auto [known, added] = colour_of.emplace(policy.name, match[1]);
      EXPECT_EQ(known->second, match[1]) << policy.name << " changes colour between charts";
      if (added) colours.insert(match[1]);
    }
  }
  EXPECT_EQ(colour_of.size(), 11u);
  EXPECT_EQ(colours.size(), colour_of.size()) << "two policies share a colour";
  EXPECT_TRUE(colour_of.contains("hpa-t50-w300"));
  EXPECT_TRUE(colour_of.contains("hpa-t80-w60"));
}

TEST_F(ReportCharts, TickLabelsAreRound) {
  const std::regex tick("text-anchor=\"(?:end|middle)\">(-?[0-9.e+]+)</text>");
  int ticks = 0;
  for (const auto& svg : charts())
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), tick); it != std::sregex_iterator(); ++it) {
      const std::string label = (*it)[1];
      std::string digits;
      for (const char c : label)
        if (c >= '0' && c <= '9') digits += c;
      digits.erase(0, digits.find_first_not_of('0'));
      digits.erase(digits.find_last_not_of('0') + 1);
      EXPECT_LE(digits.size(), 2u) << "tick " << label;
      ++ticks;
    }
  EXPECT_GT(ticks, 20);
}

TEST_F(ReportCharts, NoLabelReachesPastItsChartsEdge) {
  // Left-aligned text (legends, titles): at most 7 px a character at 11 px, 8 at 13 px bold.
  const std::regex text(
      "<text x=\"([0-9.]+)\" y=\"([0-9.]+)\"( fill=\"[^\"]*\")?( font-size=\"13\")?[^>]*>([^<]*)</text>");
  int labels = 0;
  for (const auto& svg : charts()) {
    const double width = attribute(svg, "width"), height = attribute(svg, "height");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), text); it != std::sregex_iterator(); ++it) {
      if ((*it)[0].str().find("text-anchor") != std::string::npos) continue;
      const std::string label = (*it)[5];
      const double per_character = (*it)[4].matched ? 8.0 : 7.0;
      EXPECT_LE(std::stod((*it)[1]) + per_character * static_cast<double>(label.size()), width) << label;
      EXPECT_LE(std::stod((*it)[2]), height) << label;
      ++labels;
    }
  }
  EXPECT_GT(labels, 30);
}

TEST_F(ReportCharts, TheFrontierChartShowsEverySeedsRun) {
  const auto frontier = chart(*html_, "Pod-hours against");
  for (const auto& policy : evaluation_->policies) {
    if (policy.sweep_point) {
      EXPECT_NE(frontier.find("<title>" + policy.name + "</title>"), std::string::npos) << policy.name;
      continue;
    }
    for (const auto seed : evaluation_->seeds)
      EXPECT_NE(frontier.find("<title>" + policy.name + " seed " + std::to_string(seed) + "</title>"),
                std::string::npos)
          << policy.name << " seed " << seed;
  }
}

}  // namespace
}  // namespace maestro::eval
