// The evaluation's outputs: results.json (per policy: every run's scores and their mean, s.d., min and
// max over seeds), one CSV time series per policy (the first seed, second by second: time, rps,
// replicas, ready pods, p95, cpu, action), report.html (self-contained: inline SVG plots of traffic,
// replicas, latency against the SLO, cost against SLO violations, and the table) and the printed table.
// Nothing in them depends on the time or the machine: the same evaluation gives the same bytes.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "eval/runner.hpp"

namespace maestro::eval {

nlohmann::json results_json(const Evaluation& evaluation);

// The table: one row per policy, mean ± s.d. over seeds.
std::string results_table(const Evaluation& evaluation);

std::string report_html(const Evaluation& evaluation);

std::string series_csv(const PolicyResult& policy);

// Writes results.json, timeseries/POLICY.csv and report.html into `directory` (created if needed).
Result<void> write_outputs(const Evaluation& evaluation, const std::filesystem::path& directory);

}  // namespace maestro::eval
