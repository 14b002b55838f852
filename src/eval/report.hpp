// The evaluation's outputs: results.json (the scenario and its trace window; per policy its role, its
// training-data note, every run's scores and their mean, 95 % CI, s.d., min and max over seeds; the
// oracle's lower bound; the baseline points and frontier; the headline per evaluated policy), one CSV time
// series per policy that is not a sweep point (the first seed, second by second: time, rps, replicas,
// ready pods, p95, cpu, action), report.html (self-contained: the headline, the frontier chart, the table,
// inline SVG plots of traffic, replicas and latency against the SLO) and the printed table with the
// oracle's bound and the headlines under it.
// Nothing in them depends on the time or the machine: the same evaluation gives the same bytes.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "eval/runner.hpp"

namespace maestro::eval {

nlohmann::json results_json(const Evaluation& evaluation);

// The table: one row per policy, mean ± 95 % confidence interval over seeds; then the oracle and headlines.
std::string results_table(const Evaluation& evaluation);

std::string report_html(const Evaluation& evaluation);

std::string series_csv(const PolicyResult& policy);

// Writes results.json, timeseries/POLICY.csv (not for sweep points) and report.html into `directory` (created
// if needed).
Result<void> write_outputs(const Evaluation& evaluation, const std::filesystem::path& directory);

}  // namespace maestro::eval
