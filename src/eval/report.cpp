#include "eval/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>

namespace maestro::eval {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json spread_json(const Spread& s) {
  return {{"mean", s.mean}, {"sd", s.sd}, {"min", s.min}, {"max", s.max}};
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

struct Line {
  std::string label;
  std::string colour;
  std::vector<std::pair<double, double>> points;
  bool dashed = false;
};

// A line chart as inline SVG; `log_y` plots log10 of positive values.
std::string svg_chart(const std::string& title, const std::string& y_label, const std::vector<Line>& lines,
                      bool log_y = false) {
  constexpr double kWidth = 860, kHeight = 260, kLeft = 60, kRight = 150, kTop = 28, kBottom = 36;
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
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  const auto px = [&](double x) { return kLeft + (x - x_min) / (x_max - x_min) * plot_w; };
  const auto py = [&](double y) { return kTop + plot_h - (y_of(y) - y_min) / (y_max - y_min) * plot_h; };
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" "
      "font-size=\"11\">\n<text x=\"{}\" y=\"16\" font-size=\"13\" font-weight=\"bold\">{}</text>\n"
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>\n",
      kWidth, kHeight, kLeft, escape_html(title), kLeft, kTop, plot_w, plot_h);
  for (int i = 0; i <= 4; ++i) {
    const double v = y_min + (y_max - y_min) * i / 4;
    const double shown = log_y ? std::pow(10, v) : v;
    const double y = kTop + plot_h - plot_h * i / 4;
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:.4g}</text>\n", kLeft - 4, y + 4,
                       shown);
    const double xv = x_min + (x_max - x_min) * i / 4;
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:.0f}</text>\n", px(xv),
                       kHeight - kBottom + 14, xv);
  }
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">time (s)</text>\n", kLeft + plot_w / 2,
                     kHeight - 6);
  svg += fmt::format(
      "<text x=\"12\" y=\"{}\" transform=\"rotate(-90 12 {})\" text-anchor=\"middle\">{}</text>\n",
      kTop + plot_h / 2, kTop + plot_h / 2, escape_html(y_label));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& line = lines[i];
    std::string points;
    for (const auto& [x, y] : line.points) points += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
    svg += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.3\"{} points=\"{}\"/>\n",
                       line.colour, line.dashed ? " stroke-dasharray=\"5,4\"" : "", points);
    svg += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"{}\">{}</text>\n", kWidth - kRight + 8,
                       kTop + 12 + 14 * i, line.colour, escape_html(line.label));
  }
  return svg + "</svg>\n";
}

// Pod-hours against SLO-violation seconds, one labelled point per policy.
std::string svg_scatter(const Evaluation& evaluation) {
  constexpr double kWidth = 860, kHeight = 320, kLeft = 60, kRight = 40, kTop = 28, kBottom = 40;
  double x_max = 1, y_max = 1;
  for (const auto& p : evaluation.policies) {
    x_max = std::max(x_max, p.slo_violation_seconds_soft.mean);
    y_max = std::max(y_max, p.pod_hours.mean);
  }
  x_max *= 1.1, y_max *= 1.1;
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" "
      "font-size=\"11\">\n<text x=\"{}\" y=\"16\" font-size=\"13\" font-weight=\"bold\">Cost against SLO "
      "violations (mean over seeds; lower left is better)</text>\n<rect x=\"{}\" y=\"{}\" width=\"{}\" "
      "height=\"{}\" fill=\"none\" stroke=\"#999\"/>\n",
      kWidth, kHeight, kLeft, kLeft, kTop, plot_w, plot_h);
  svg += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">seconds with p95 over the soft SLO</text>\n",
      kLeft + plot_w / 2, kHeight - 6);
  svg += fmt::format(
      "<text x=\"12\" y=\"{}\" transform=\"rotate(-90 12 {})\" text-anchor=\"middle\">pod-hours</text>\n",
      kTop + plot_h / 2, kTop + plot_h / 2);
  for (int i = 0; i <= 4; ++i) {
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:.4g}</text>\n",
                       kLeft + plot_w * i / 4, kTop + plot_h + 14, x_max * i / 4);
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:.3g}</text>\n", kLeft - 4,
                       kTop + plot_h - plot_h * i / 4 + 4, y_max * i / 4);
  }
  for (std::size_t i = 0; i < evaluation.policies.size(); ++i) {
    const auto& p = evaluation.policies[i];
    const double x = kLeft + p.slo_violation_seconds_soft.mean / x_max * plot_w;
    const double y = kTop + plot_h - p.pod_hours.mean / y_max * plot_h;
    const bool sweep = p.name.starts_with("hpa-t");
    const char* colour = sweep ? "#999" : kColours[i % 10];
    svg += fmt::format(
        "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"{}\"/><text x=\"{:.1f}\" y=\"{:.1f}\" "
        "fill=\"{}\">{}</text>\n",
        x, y, colour, x + 6, y - 4, colour, escape_html(p.name));
  }
  return svg + "</svg>\n";
}

std::string cell(const Spread& s, int precision) {
  return fmt::format("{:.{}f} ± {:.{}f}", s.mean, precision, s.sd, precision);
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
  json policies = json::array();
  for (const auto& p : evaluation.policies) {
    json runs = json::array();
    for (const auto& r : p.runs) {
      runs.push_back({{"seed", r.seed},
                      {"slo_violation_seconds_soft", r.slo_violation_seconds_soft},
                      {"slo_violation_seconds_hard", r.slo_violation_seconds_hard},
                      {"pod_hours", r.pod_hours},
                      {"dropped_requests", r.dropped_requests},
                      {"scaling_actions", r.scaling_actions},
                      {"mean_reward", r.mean_reward},
                      {"served_requests", r.served_requests}});
    }
    policies.push_back({{"name", p.name},
                        {"slo_violation_seconds_soft", spread_json(p.slo_violation_seconds_soft)},
                        {"slo_violation_seconds_hard", spread_json(p.slo_violation_seconds_hard)},
                        {"pod_hours", spread_json(p.pod_hours)},
                        {"dropped_requests", spread_json(p.dropped_requests)},
                        {"scaling_actions", spread_json(p.scaling_actions)},
                        {"mean_reward", spread_json(p.mean_reward)},
                        {"runs", runs}});
  }
  return {{"scenario", scenario}, {"seeds", evaluation.seeds}, {"policies", policies}};
}

std::string results_table(const Evaluation& evaluation) {
  std::size_t width = 6;
  for (const auto& p : evaluation.policies) width = std::max(width, p.name.size());
  std::string table =
      fmt::format("{:<{}}  {:>17}  {:>15}  {:>15}  {:>17}  {:>13}  {:>15}\n", "policy", width,
                  "SLO-viol s (soft)", "over hard (s)", "pod-hours", "dropped", "actions", "reward");
  for (const auto& p : evaluation.policies) {
    table += fmt::format("{:<{}}  {:>17}  {:>15}  {:>15}  {:>17}  {:>13}  {:>15}\n", p.name, width,
                         cell(p.slo_violation_seconds_soft, 0), cell(p.slo_violation_seconds_hard, 0),
                         cell(p.pod_hours, 2), cell(p.dropped_requests, 0), cell(p.scaling_actions, 0),
                         cell(p.mean_reward, 3));
  }
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
  std::vector<const PolicyResult*> plotted;  // the sweep points are in the table and the scatter only
  for (const auto& p : evaluation.policies)
    if (!p.name.starts_with("hpa-t")) plotted.push_back(&p);
  const std::size_t step =
      std::max<std::size_t>(1, static_cast<std::size_t>(scenario.duration_seconds) / 400);

  std::vector<Line> traffic, replicas, latency;
  if (!evaluation.policies.empty()) {
    traffic.push_back(
        {"arrivals", kColours[0],
         sampled(
             evaluation.policies.front().series, [](const SeriesRow& r) { return r.rps; }, step)});
  }
  for (std::size_t i = 0; i < plotted.size(); ++i) {
    const char* colour = kColours[i % 10];
    replicas.push_back(
        {plotted[i]->name, colour,
         sampled(
             plotted[i]->series, [](const SeriesRow& r) { return double(r.replicas); }, step)});
    latency.push_back({plotted[i]->name, colour,
                       sampled(
                           plotted[i]->series, [](const SeriesRow& r) { return r.p95_ms; }, step)});
  }
  const double end = scenario.duration_seconds;
  latency.push_back(
      {"soft SLO", "#000", {{0, *scenario.cluster.slo.soft_ms}, {end, *scenario.cluster.slo.soft_ms}}, true});
  latency.push_back(
      {"hard SLO", "#555", {{0, *scenario.cluster.slo.hard_ms}, {end, *scenario.cluster.slo.hard_ms}}, true});

  std::string rows;
  for (const auto& p : evaluation.policies) {
    rows += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        escape_html(p.name), cell(p.slo_violation_seconds_soft, 0), cell(p.slo_violation_seconds_hard, 0),
        cell(p.pod_hours, 2), cell(p.dropped_requests, 0), cell(p.scaling_actions, 0),
        cell(p.mean_reward, 3));
  }
  std::string seeds;
  for (const auto seed : evaluation.seeds) seeds += (seeds.empty() ? "" : ", ") + std::to_string(seed);
  return fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>MAESTRO evaluation: {0}</title>\n"
      "<style>body{{font-family:sans-serif;margin:24px;max-width:900px}}table{{border-collapse:collapse}}"
      "td,th{{border:1px solid #ccc;padding:3px "
      "8px;text-align:right}}td:first-child{{text-align:left}}</style>"
      "</head><body>\n<h1>Evaluation: {0}</h1>\n<p>{1}</p>\n<p>{2} s simulated per run; pods start in {3} s; "
      "SLO "
      "p95 {4} ms soft, {5} ms hard; replicas {6}..{7}; chaos: {8} pod kills and {9} CPU stress events per "
      "hour; "
      "seeds {10}. Plots show the first seed.</p>\n<h2>Results (mean ± s.d. over seeds)</h2>\n<table><tr>"
      "<th>policy</th><th>SLO-violation s (soft)</th><th>over hard (s)</th><th>pod-hours</th><th>dropped "
      "requests</th><th>scaling actions</th><th>mean "
      "reward</th></tr>\n{11}</table>\n{12}{13}{14}{15}</body></html>\n",
      escape_html(scenario.name), escape_html(scenario.description), scenario.duration_seconds,
      scenario.cluster.startup.median_seconds, *scenario.cluster.slo.soft_ms, *scenario.cluster.slo.hard_ms,
      scenario.cluster.bounds.min, scenario.cluster.bounds.max, scenario.cluster.chaos.pod_kills_per_hour,
      scenario.cluster.chaos.stress_per_hour, seeds, rows, svg_scatter(evaluation),
      svg_chart("Traffic", "requests/s", traffic), svg_chart("Replicas", "replicas", replicas),
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
  for (const auto& policy : evaluation.policies)
    if (auto ok = write(directory / "timeseries" / (policy.name + ".csv"), series_csv(policy)); !ok)
      return ok;
  return write(directory / "report.html", report_html(evaluation));
}

}  // namespace maestro::eval
