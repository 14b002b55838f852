#include "eval/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>

#include <fmt/ranges.h>

#include "eval/frontier.hpp"

namespace maestro::eval {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json spread_json(const Spread& s) {
  return {{"mean", s.mean}, {"ci95", s.ci95}, {"sd", s.sd}, {"min", s.min}, {"max", s.max}};
}

const char* role_name(PolicyRole role) {
  switch (role) {
    case PolicyRole::kBaseline:
      return "baseline";
    case PolicyRole::kOracleSchedule:
      return "oracle-schedule";
    case PolicyRole::kEvaluated:
      break;
  }
  return "evaluated";
}

// Round tick values covering [low, high]: steps of 1, 2 or 5 × 10^k (`hours`: 1, 2, 3, 6, 12 or 24 below
// a day, days as 1, 2 or 5 × 10^k beyond), from the last at or below `low` to the first at or above `high`.
std::vector<double> nice_ticks(double low, double high, int about = 5, bool hours = false) {
  const double raw = (high - low) / about;
  double step = 0;
  if (hours && raw <= 24) {
    for (const double hours_step : {1.0, 2.0, 3.0, 6.0, 12.0, 24.0})
      if (step == 0 && raw <= hours_step) step = hours_step;
  } else {
    const double unit = hours ? 24 : 1;
    const double magnitude = std::pow(10, std::floor(std::log10(raw > 0 ? raw / unit : 1)));
    for (const double factor : {1.0, 2.0, 5.0, 10.0})
      if (step == 0 && raw / unit <= factor * magnitude) step = factor * magnitude * unit;
  }
  const double first = std::floor(low / step + 1e-9), last = std::ceil(high / step - 1e-9);
  if (!std::isfinite(first) || !std::isfinite(last) || last - first > 1000) return {low, high};
  // k × step rounded to the step's decimals, so that 3 × 0.1 is 0.3 and not 0.30000000000000004.
  const double scale = std::pow(10, std::max(0.0, -std::floor(std::log10(step))));
  std::vector<double> ticks;
  for (double k = first; k <= last; ++k) ticks.push_back(std::round(k * step * scale) / scale);
  return ticks;
}

std::string escape_html(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

const char* const kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr const char* kSweepGrey = "#aaa";

// The colour of the i-th plotted policy: the palette's ten, then hues a golden angle apart, never reused.
std::string colour_at(std::size_t i) {
  if (i < std::size(kColours)) return kColours[i];
  const double hue = std::fmod(static_cast<double>(i) * 137.508, 360) / 60;  // sector 0..6
  const double value = 0.75, saturation = 0.8, chroma = value * saturation;
  const double second = chroma * (1 - std::abs(std::fmod(hue, 2) - 1)), floor = value - chroma;
  const int sector = static_cast<int>(hue);
  const double rgb[6][3] = {{chroma, second, 0}, {second, chroma, 0}, {0, chroma, second},
                            {0, second, chroma}, {second, 0, chroma}, {chroma, 0, second}};
  const auto byte = [&](double c) { return static_cast<int>(std::lround(255 * (c + floor))); };
  return fmt::format("#{:02x}{:02x}{:02x}", byte(rgb[sector][0]), byte(rgb[sector][1]), byte(rgb[sector][2]));
}

// Room for labels at 11 px sans-serif: an upper bound on a character's width, so that nothing is cut off.
double text_width(const std::string& text) {
  return 7.0 * static_cast<double>(text.size());
}

struct LegendEntry {
  std::string label;
  std::string colour;
  enum class Mark { kLine, kDashed, kDot } mark = Mark::kLine;
};

constexpr double kLegendRow = 14;

// The legend, right of the plot at x; its rows from y down.
std::string svg_legend(const std::vector<LegendEntry>& entries, double x, double y) {
  std::string svg;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& entry = entries[i];
    const double row = y + kLegendRow * static_cast<double>(i);
    if (entry.mark == LegendEntry::Mark::kDot)
      svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"{}\"/>", x + 8, row - 4,
                         entry.colour);
    else
      svg += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\"{}/>", x,
                         row - 4, x + 16, row - 4, entry.colour,
                         entry.mark == LegendEntry::Mark::kDashed ? " stroke-dasharray=\"5,4\"" : "");
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"{}\">{}</text>\n", x + 20, row, entry.colour,
                       escape_html(entry.label));
  }
  return svg;
}

// The right margin a legend needs.
double legend_width(const std::vector<LegendEntry>& entries) {
  double widest = 0;
  for (const auto& entry : entries) widest = std::max(widest, text_width(entry.label));
  return std::max(150.0, 30 + widest);
}

struct Line {
  std::string label;
  std::string colour;
  std::vector<std::pair<double, double>> points;
  bool dashed = false;
};

// A line chart as inline SVG, its legend beside it as wide and as tall as its labels need; `log_y` plots
// log10 of positive values. Nothing when no line has a point.
std::string svg_chart(const std::string& title, const std::string& y_label, const std::vector<Line>& lines,
                      bool log_y = false) {
  if (std::all_of(lines.begin(), lines.end(), [](const Line& line) { return line.points.empty(); }))
    return "";
  std::vector<LegendEntry> legend;
  for (const auto& line : lines)
    legend.push_back(
        {line.label, line.colour, line.dashed ? LegendEntry::Mark::kDashed : LegendEntry::Mark::kLine});
  constexpr double kLeft = 60, kTop = 28, kBottom = 36, plot_w = 650, plot_h = 196;
  const double width = kLeft + plot_w + legend_width(legend);
  const double height =
      std::max(kTop + plot_h + kBottom, kTop + 12 + kLegendRow * static_cast<double>(legend.size()) + 8);
  double x_min = 1e300, x_max = -1e300, y_min = 1e300, y_max = -1e300;
  const auto y_of = [&](double y) { return log_y ? std::log10(std::max(y, 1e-3)) : y; };
  for (const auto& line : lines)
    for (const auto& [x, y] : line.points) {
      x_min = std::min(x_min, x), x_max = std::max(x_max, x);
      y_min = std::min(y_min, y_of(y)), y_max = std::max(y_max, y_of(y));
    }
  if (x_min >= x_max) x_max = x_min + 1;
  if (!log_y) y_min = std::min(y_min, 0.0);
  if (y_min >= y_max) y_max = y_min + 1;
  // Round ticks: linear axes end on one; log axes tick at powers of ten. Long runs are labelled in hours.
  const double x_unit = x_max - x_min > 7200 ? 3600 : 1;
  const auto x_ticks = nice_ticks(x_min / x_unit, x_max / x_unit, 5, x_unit > 1);
  std::vector<double> y_ticks;
  if (log_y) {
    y_min = std::floor(y_min), y_max = std::max(y_min + 1, std::ceil(y_max));
    for (double v = y_min; v <= y_max; ++v) y_ticks.push_back(v);
  } else {
    y_ticks = nice_ticks(y_min, y_max);
    y_min = std::min(y_min, y_ticks.front()), y_max = std::max(y_max, y_ticks.back());
  }
  const auto px = [&](double x) { return kLeft + (x - x_min) / (x_max - x_min) * plot_w; };
  const auto py = [&](double y) { return kTop + plot_h - (y_of(y) - y_min) / (y_max - y_min) * plot_h; };
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" "
      "font-size=\"11\">\n<text x=\"{}\" y=\"16\" font-size=\"13\" font-weight=\"bold\">{}</text>\n"
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>\n",
      width, height, kLeft, escape_html(title), kLeft, kTop, plot_w, plot_h);
  for (const double v : y_ticks) {
    const double y = kTop + plot_h - (v - y_min) / (y_max - y_min) * plot_h;
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:g}</text>\n", kLeft - 4, y + 4,
                       log_y ? std::pow(10, v) : v);
  }
  for (const double v : x_ticks)
    if (v * x_unit >= x_min && v * x_unit <= x_max)
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:g}</text>\n", px(v * x_unit),
                         kTop + plot_h + 14, v);
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">time ({})</text>\n", kLeft + plot_w / 2,
                     kTop + plot_h + 30, x_unit > 1 ? "h" : "s");
  svg += fmt::format(
      "<text x=\"12\" y=\"{}\" transform=\"rotate(-90 12 {})\" text-anchor=\"middle\">{}</text>\n",
      kTop + plot_h / 2, kTop + plot_h / 2, escape_html(y_label));
  for (const auto& line : lines) {
    std::string points;
    for (const auto& [x, y] : line.points) points += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
    svg += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.3\"{} points=\"{}\"/>\n",
                       line.colour, line.dashed ? " stroke-dasharray=\"5,4\"" : "", points);
  }
  return svg + svg_legend(legend, kLeft + plot_w + 8, kTop + 12) + "</svg>\n";
}

// The frontier chart: pod-hours against the share of requests over the soft SLO. Every policy that is not a
// sweep point in its colour of the time-series charts, its mean a filled dot, each seed's run a ring and
// whiskers from the least to the most over seeds on both axes; sweep points grey (the frontier's own ringed),
// the frontier a line, the oracle's lower bound a dashed line.
std::string svg_frontier(const Evaluation& evaluation, const FrontierSummary& summary,
                         const std::function<std::string(const std::string&)>& colour_of) {
  std::vector<LegendEntry> legend;
  std::vector<const PolicyResult*> coloured;
  for (const auto& p : evaluation.policies)
    if (!p.sweep_point) {
      coloured.push_back(&p);
      legend.push_back({p.name, colour_of(p.name), LegendEntry::Mark::kDot});
    }
  const bool sweeps = std::any_of(evaluation.policies.begin(), evaluation.policies.end(),
                                  [](const PolicyResult& p) { return p.sweep_point; });
  if (sweeps) legend.push_back({"sweep points", kSweepGrey, LegendEntry::Mark::kDot});
  if (!summary.frontier.empty()) legend.push_back({"baseline frontier", "#555"});
  legend.push_back({"oracle (lower bound)", "#000", LegendEntry::Mark::kDashed});

  constexpr double kLeft = 64, kTop = 28, kBottom = 42, plot_w = 626, plot_h = 310;
  const double width = kLeft + plot_w + legend_width(legend);
  const double height =
      std::max(kTop + plot_h + kBottom, kTop + 12 + kLegendRow * static_cast<double>(legend.size()) + 8);
  double x_max = 0.01, y_max = std::max(1e-3, evaluation.oracle.summary.max);
  for (const auto& p : evaluation.policies) {
    x_max = std::max(x_max, 100 * p.share_over_soft.max);
    y_max = std::max(y_max, p.pod_hours.max);
  }
  const auto x_ticks = nice_ticks(0, x_max), y_ticks = nice_ticks(0, y_max);
  x_max = x_ticks.back(), y_max = y_ticks.back();
  const auto px = [&](double share) { return kLeft + 100 * share / x_max * plot_w; };
  const auto py = [&](double hours) { return kTop + plot_h - hours / y_max * plot_h; };
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" "
      "font-size=\"11\">\n<text x=\"{}\" y=\"16\" font-size=\"13\" font-weight=\"bold\">Pod-hours against "
      "requests over the SLO (lower left is better)</text>\n"
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>\n",
      width, height, kLeft, kLeft, kTop, plot_w, plot_h);
  for (const double v : x_ticks)
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:g}</text>\n",
                       kLeft + v / x_max * plot_w, kTop + plot_h + 14, v);
  for (const double v : y_ticks)
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:g}</text>\n", kLeft - 4,
                       kTop + plot_h - v / y_max * plot_h + 4, v);
  svg += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">% of requests over the soft SLO (served over it, "
      "dropped or left queued)</text>\n",
      kLeft + plot_w / 2, kTop + plot_h + 32);
  svg += fmt::format(
      "<text x=\"14\" y=\"{}\" transform=\"rotate(-90 14 {})\" text-anchor=\"middle\">pod-hours</text>\n",
      kTop + plot_h / 2, kTop + plot_h / 2);
  const double oracle_y = py(evaluation.oracle.summary.mean);
  svg += fmt::format(
      "<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#000\" stroke-dasharray=\"5,4\"/>\n",
      kLeft, oracle_y, kLeft + plot_w, oracle_y);
  for (const auto& p : evaluation.policies)
    if (p.sweep_point)
      svg +=
          fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"><title>{}</title></circle>\n",
                      px(p.share_over_soft.mean), py(p.pod_hours.mean), kSweepGrey, escape_html(p.name));
  std::string line;
  for (const auto& point : summary.frontier) {
    line += fmt::format("{:.1f},{:.1f} ", px(point.share_over_soft), py(point.pod_hours));
    svg += fmt::format(
        "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"none\" "
        "stroke=\"#555\"><title>{}</title></circle>\n",
        px(point.share_over_soft), py(point.pod_hours), escape_html(point.name));
  }
  if (!summary.frontier.empty()) {
    // Flat beyond the frontier's last point, as the headline reads it.
    line += fmt::format("{:.1f},{:.1f}", kLeft + plot_w, py(summary.frontier.back().pod_hours));
    svg +=
        fmt::format("<polyline fill=\"none\" stroke=\"#555\" stroke-width=\"1.5\" points=\"{}\"/>\n", line);
  }
  for (const auto* p : coloured) {
    const std::string colour = colour_of(p->name);
    const double x = px(p->share_over_soft.mean), y = py(p->pod_hours.mean);
    svg += fmt::format(
        "<g stroke=\"{0}\"><line x1=\"{1:.1f}\" y1=\"{3:.1f}\" x2=\"{2:.1f}\" y2=\"{3:.1f}\"/>"
        "<line x1=\"{4:.1f}\" y1=\"{5:.1f}\" x2=\"{4:.1f}\" y2=\"{6:.1f}\"/></g>\n",
        colour, px(p->share_over_soft.min), px(p->share_over_soft.max), y, x, py(p->pod_hours.min),
        py(p->pod_hours.max));
    for (const auto& run : p->runs)
      svg += fmt::format(
          "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"none\" stroke=\"{}\"><title>{} seed "
          "{}</title></circle>\n",
          px(run.share_over_soft), py(run.pod_hours), colour, escape_html(p->name), run.seed);
    svg +=
        fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\"><title>{}</title></circle>\n",
                    x, y, p->role == PolicyRole::kEvaluated ? 6 : 4, colour, escape_html(p->name));
  }
  return svg + svg_legend(legend, kLeft + plot_w + 8, kTop + 12) + "</svg>\n";
}

// mean ± half-width of the 95 % confidence interval.
std::string cell(const Spread& s, int precision, double scale = 1) {
  return fmt::format("{:.{}f} ± {:.{}f}", scale * s.mean, precision, scale * s.ci95, precision);
}

std::string headline_text(const Headline& h) {
  std::string text =
      fmt::format("{}{}: {:.2f} pod-hours at {:.3f} % of requests over the SLO; ", h.policy,
                  h.role == PolicyRole::kOracleSchedule ? " (with foresight, not a policy)" : "", h.pod_hours,
                  100 * h.share_over_soft);
  if (h.saved_fraction)
    text += fmt::format("{:.1f} % pod-hours saved against the baseline frontier ({:.2f} there)",
                        100 * *h.saved_fraction, *h.frontier_pod_hours);
  else
    text += "the baseline frontier does not reach this SLO";
  text += h.dominated_by.empty() ? "; no baseline point is as good on both"
                                 : fmt::format("; dominated by {}", fmt::join(h.dominated_by, ", "));
  return text + fmt::format("; {:.2f}x the oracle's lower bound", h.oracle_ratio);
}

std::string oracle_text(const OracleBound& oracle) {
  std::string text = fmt::format(
      "oracle (lower bound on pod-hours at zero SLO violations for the realised arrivals): {:.2f} ± {:.2f}",
      oracle.summary.mean, oracle.summary.ci95);
  if (oracle.unmeetable_seconds > 0)
    text += fmt::format(" ({} s need more than the maximum replicas and are held at it)",
                        oracle.unmeetable_seconds);
  return text;
}

// Every `step` seconds of a series: the value `field` gives (the maximum over the step, so spikes show).
template <typename Field>
std::vector<std::pair<double, double>> sampled(const std::vector<SeriesRow>& series, Field field,
                                               std::size_t step) {
  std::vector<std::pair<double, double>> points;
  for (std::size_t i = 0; i < series.size(); i += step) {
    double value = -1e300;
    for (std::size_t j = i; j < std::min(series.size(), i + step); ++j)
      value = std::max(value, field(series[j]));
    points.emplace_back(series[i].time, value);
  }
  return points;
}

}  // namespace

json results_json(const Evaluation& evaluation) {
  const auto& s = evaluation.scenario;
  json scenario = {{"name", s.name},
                   {"description", s.description},
                   {"duration_seconds", s.duration_seconds},
                   {"peak_rps", s.traffic.peak_rps},
                   {"startup_seconds", s.cluster.startup.median_seconds},
                   {"slo_soft_ms", *s.cluster.slo.soft_ms},
                   {"slo_hard_ms", *s.cluster.slo.hard_ms},
                   {"min_replicas", s.cluster.bounds.min},
                   {"max_replicas", s.cluster.bounds.max},
                   {"chaos",
                    {{"pod_kills_per_hour", s.cluster.chaos.pod_kills_per_hour},
                     {"stress_per_hour", s.cluster.chaos.stress_per_hour}}}};
  if (s.traffic.kind == traffic::ShapeKind::kTrace)
    scenario["trace_window"] = {{"trace", s.traffic.trace->name},
                                {"start_seconds", s.traffic.window_start_seconds},
                                {"end_seconds", s.traffic.window_start_seconds + s.duration_seconds}};
  json policies = json::array();
  for (const auto& p : evaluation.policies) {
    json runs = json::array();
    for (const auto& r : p.runs) {
      runs.push_back({{"seed", r.seed},
                      {"share_over_soft", r.share_over_soft},
                      {"slo_violation_seconds_soft", r.slo_violation_seconds_soft},
                      {"slo_violation_seconds_hard", r.slo_violation_seconds_hard},
                      {"pod_hours", r.pod_hours},
                      {"dropped_requests", r.dropped_requests},
                      {"scaling_actions", r.scaling_actions},
                      {"scaling_actions_per_hour", r.scaling_actions_per_hour},
                      {"mean_reward", r.mean_reward},
                      {"arrivals", r.arrivals},
                      {"served_requests", r.served_requests},
                      {"requests_over_soft", r.requests_over_soft},
                      {"requests_over_hard", r.requests_over_hard},
                      {"queued_at_end", r.queued_at_end}});
    }
    policies.push_back({{"name", p.name},
                        {"role", role_name(p.role)},
                        {"training_data", p.data_note},
                        {"share_over_soft", spread_json(p.share_over_soft)},
                        {"slo_violation_seconds_soft", spread_json(p.slo_violation_seconds_soft)},
                        {"slo_violation_seconds_hard", spread_json(p.slo_violation_seconds_hard)},
                        {"pod_hours", spread_json(p.pod_hours)},
                        {"dropped_requests", spread_json(p.dropped_requests)},
                        {"scaling_actions", spread_json(p.scaling_actions)},
                        {"scaling_actions_per_hour", spread_json(p.scaling_actions_per_hour)},
                        {"queued_at_end", spread_json(p.queued_at_end)},
                        {"mean_reward", spread_json(p.mean_reward)},
                        {"runs", runs}});
  }
  const auto summary = summarise_frontier(evaluation);
  const auto points = [](const std::vector<FrontierPoint>& list) {
    json out = json::array();
    for (const auto& point : list)
      out.push_back(
          {{"name", point.name}, {"share_over_soft", point.share_over_soft}, {"pod_hours", point.pod_hours}});
    return out;
  };
  json headlines = json::array();
  for (const auto& h : summary.headlines) {
    headlines.push_back({{"policy", h.policy},
                         {"role", role_name(h.role)},
                         {"share_over_soft", h.share_over_soft},
                         {"pod_hours", h.pod_hours},
                         {"frontier_pod_hours", h.frontier_pod_hours ? json(*h.frontier_pod_hours) : json()},
                         {"saved_fraction", h.saved_fraction ? json(*h.saved_fraction) : json()},
                         {"frontier_reaches", h.frontier_pod_hours.has_value()},
                         {"dominated_by", h.dominated_by},
                         {"oracle_ratio", h.oracle_ratio},
                         {"text", headline_text(h)}});
  }
  json oracle = {
      {"description",
       "lower bound on pod-hours at zero SLO violations for the realised arrivals (dynamic programming "
       "over ready replicas per second; eval/oracle.hpp)"},
      {"pod_hours", spread_json(evaluation.oracle.summary)},
      {"pod_hours_per_seed", evaluation.oracle.pod_hours},
      {"unmeetable_seconds", evaluation.oracle.unmeetable_seconds}};
  return {{"scenario", scenario},
          {"seeds", evaluation.seeds},
          {"policies", policies},
          {"oracle", oracle},
          {"frontier", {{"baselines", points(summary.baselines)}, {"frontier", points(summary.frontier)}}},
          {"headlines", headlines}};
}

std::string results_table(const Evaluation& evaluation) {
  std::size_t width = 6;
  for (const auto& p : evaluation.policies) width = std::max(width, p.name.size());
  const auto row = [&](const std::string& name, const std::string& share, const std::string& soft,
                       const std::string& hard, const std::string& hours, const std::string& dropped,
                       const std::string& actions, const std::string& queued, const std::string& note) {
    return fmt::format("{:<{}}  {:>17}  {:>17}  {:>15}  {:>15}  {:>17}  {:>13}  {:>11}  {}\n", name, width,
                       share, soft, hard, hours, dropped, actions, queued, note);
  };
  std::string table =
      fmt::format("{} (mean ± 95 % CI over {} seeds)\n", evaluation.scenario.name, evaluation.seeds.size()) +
      row("policy", "% over soft SLO", "SLO-viol s (soft)", "over hard (s)", "pod-hours", "dropped",
          "actions/hour", "queued end", "");
  for (const auto& p : evaluation.policies) {
    table +=
        row(p.name, cell(p.share_over_soft, 3, 100), cell(p.slo_violation_seconds_soft, 0),
            cell(p.slo_violation_seconds_hard, 0), cell(p.pod_hours, 2), cell(p.dropped_requests, 0),
            cell(p.scaling_actions_per_hour, 1), fmt::format("{:.0f}", p.queued_at_end.mean), p.data_note);
  }
  table += oracle_text(evaluation.oracle) + "\n";
  for (const auto& h : summarise_frontier(evaluation).headlines) table += headline_text(h) + "\n";
  return table;
}

std::string series_csv(const PolicyResult& policy) {
  std::string csv = "time,rps,replicas,ready_pods,p95_ms,cpu,action\n";
  for (const auto& row : policy.series)
    csv += fmt::format("{},{:.3f},{},{},{:.3f},{:.3f},{}\n", row.time, row.rps, row.replicas, row.ready_pods,
                       row.p95_ms, row.cpu_percent, row.action);
  return csv;
}

std::string report_html(const Evaluation& evaluation) {
  const auto& scenario = evaluation.scenario;
  // Sweep points are in the table and the frontier chart only (grey); every other policy asked for gets a
  // line in every time-series chart and a point in the frontier chart, in a colour of its own, the same in
  // every chart.
  std::vector<const PolicyResult*> plotted;
  for (const auto& p : evaluation.policies)
    if (!p.sweep_point) plotted.push_back(&p);
  const auto colour_of = [&](const std::string& name) -> std::string {
    for (std::size_t i = 0; i < plotted.size(); ++i)
      if (plotted[i]->name == name) return colour_at(i);
    return kSweepGrey;
  };
  const std::size_t step =
      std::max<std::size_t>(1, static_cast<std::size_t>(scenario.duration_seconds) / 400);

  std::vector<Line> traffic, replicas, latency;
  if (!plotted.empty()) {
    traffic.push_back({"arrivals", "#444",
                       sampled(
                           plotted.front()->series, [](const SeriesRow& r) { return r.rps; }, step)});
  }
  for (const auto* p : plotted) {
    replicas.push_back({p->name, colour_of(p->name),
                        sampled(
                            p->series, [](const SeriesRow& r) { return double(r.replicas); }, step)});
    latency.push_back({p->name, colour_of(p->name),
                       sampled(
                           p->series, [](const SeriesRow& r) { return r.p95_ms; }, step)});
  }
  const double end = scenario.duration_seconds;
  latency.push_back(
      {"soft SLO", "#000", {{0, *scenario.cluster.slo.soft_ms}, {end, *scenario.cluster.slo.soft_ms}}, true});
  latency.push_back(
      {"hard SLO", "#555", {{0, *scenario.cluster.slo.hard_ms}, {end, *scenario.cluster.slo.hard_ms}}, true});

  std::string rows;
  for (const auto& p : evaluation.policies) {
    rows += fmt::format(
        "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.0f}</td>"
        "<td>{}</td></tr>\n",
        p.role == PolicyRole::kEvaluated ? " style=\"font-weight:bold\"" : "", escape_html(p.name),
        cell(p.share_over_soft, 3, 100), cell(p.slo_violation_seconds_soft, 0),
        cell(p.slo_violation_seconds_hard, 0), cell(p.pod_hours, 2), cell(p.dropped_requests, 0),
        cell(p.scaling_actions_per_hour, 1), p.queued_at_end.mean, escape_html(p.data_note));
  }
  const auto summary = summarise_frontier(evaluation);
  std::string headlines;
  for (const auto& h : summary.headlines) headlines += "<li>" + escape_html(headline_text(h)) + "</li>\n";
  if (std::ranges::none_of(summary.headlines,
                           [](const Headline& h) { return h.role == PolicyRole::kEvaluated; }))
    headlines = "<li>no learned policy in this evaluation</li>\n" + headlines;
  std::string seeds;
  for (const auto seed : evaluation.seeds) seeds += (seeds.empty() ? "" : ", ") + std::to_string(seed);
  return fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>MAESTRO evaluation: {0}</title>\n"
      "<style>body{{font-family:sans-serif;margin:24px;max-width:1100px}}table{{border-collapse:collapse}}"
      "td,th{{border:1px solid #ccc;padding:3px "
      "8px;text-align:right}}td:first-child{{text-align:left}}</style>"
      "</head><body>\n<h1>Evaluation: {0}</h1>\n<p>{1}</p>\n<p>{2} s simulated per run; pods start in {3} s; "
      "SLO p95 {4} ms soft, {5} ms hard; replicas {6}..{7}; chaos: {8} pod kills and {9} CPU stress events "
      "per "
      "hour; seeds {10}. The time-series charts show the first seed; the frontier chart every seed (dots: "
      "means over seeds; rings: each seed's run; whiskers: their "
      "range).</p>\n<h2>Headline</h2>\n<ul>\n{13}</ul>\n<p>{14}. The "
      "baseline frontier is the lower-left Pareto frontier of every HPA, static and KPA point evaluated here "
      "({15} points, {16} on the frontier), interpolated linearly at a policy's share of requests over the "
      "SLO.</p>\n{12}<h2>Results (mean ± 95 % confidence interval over seeds, Student t)</h2>\n<table><tr>"
      "<th>policy</th><th>% requests over soft SLO</th><th>SLO-violation s (soft)</th><th>over hard (s)</th>"
      "<th>pod-hours</th><th>dropped requests</th><th>scaling actions / hour</th><th>queued at end</th>"
      "<th>training data</th></tr>\n{11}</table>\n{17}{18}{19}</body></html>\n",
      escape_html(scenario.name), escape_html(scenario.description), scenario.duration_seconds,
      scenario.cluster.startup.median_seconds, *scenario.cluster.slo.soft_ms, *scenario.cluster.slo.hard_ms,
      scenario.cluster.bounds.min, scenario.cluster.bounds.max, scenario.cluster.chaos.pod_kills_per_hour,
      scenario.cluster.chaos.stress_per_hour, seeds, rows, svg_frontier(evaluation, summary, colour_of),
      headlines, escape_html(oracle_text(evaluation.oracle)), summary.baselines.size(),
      summary.frontier.size(), svg_chart("Traffic", "requests/s", traffic),
      svg_chart("Replicas", "replicas", replicas),
      svg_chart("p95 latency against the SLO (log scale)", "ms", latency, true));
}

Result<void> write_outputs(const Evaluation& evaluation, const fs::path& directory) {
  std::error_code error;
  fs::create_directories(directory / "timeseries", error);
  if (error) return fail("cannot create {}: {}", directory.string(), error.message());
  const auto write = [](const fs::path& path, const std::string& text) -> Result<void> {
    std::ofstream file(path, std::ios::binary);
    file << text;
    if (!file.good()) return fail("cannot write {}", path.string());
    return {};
  };
  if (auto ok = write(directory / "results.json", results_json(evaluation).dump(2) + "\n"); !ok) return ok;
  for (const auto& policy : evaluation.policies) {
    if (policy.sweep_point) continue;
    if (auto ok = write(directory / "timeseries" / (policy.name + ".csv"), series_csv(policy)); !ok)
      return ok;
  }
  return write(directory / "report.html", report_html(evaluation));
}

}  // namespace maestro::eval
