#include "local/load_plan.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

namespace maestro::local {

namespace {

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || value < 0) return fail("bad duration \"{}\"", text);
  const std::string_view unit(end, text.data() + text.size() - end);
  double ms_per_unit = 0;
  if (unit == "ms")
    ms_per_unit = 1;
  else if (unit == "s")
    ms_per_unit = 1000;
  else if (unit == "m")
    ms_per_unit = 60'000;
  else if (unit == "h")
    ms_per_unit = 3'600'000;
  else
    return fail("duration \"{}\" needs a unit: ms, s, m or h", text);
  return std::chrono::milliseconds(std::llround(value * ms_per_unit));
}

}  // namespace

Result<std::vector<LoadStage>> parse_stages(std::string_view text) {
  std::vector<LoadStage> stages;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto comma = std::min(text.find(',', start), text.size());
    const std::string_view stage = text.substr(start, comma - start);
    const auto colon = stage.find(':');
    if (colon == std::string_view::npos) return fail("stage \"{}\" is not DURATION:TARGET_RPS", stage);
    auto duration = parse_duration(stage.substr(0, colon));
    if (!duration) return std::unexpected(duration.error());
    const std::string_view target = stage.substr(colon + 1);
    double rps = 0;
    const auto [end, error] = std::from_chars(target.data(), target.data() + target.size(), rps);
    if (error != std::errc() || end != target.data() + target.size() || rps < 0 || !std::isfinite(rps))
      return fail("stage \"{}\": the target must be a rate ≥ 0", stage);
    stages.push_back({*duration, rps});
    start = comma + 1;
  }
  if (stages.empty()) return fail("no stages");
  return stages;
}

double RatePlan::duration_seconds() const {
  return static_cast<double>(rps.size()) * std::chrono::duration<double>(slice).count();
}

double RatePlan::expected_requests() const {
  double total = 0;
  for (double rate : rps) total += rate;
  return total * std::chrono::duration<double>(slice).count();
}

RatePlan plan_from_stages(std::span<const LoadStage> stages, double start_rps,
                          std::chrono::milliseconds slice) {
  RatePlan plan;
  plan.slice = slice;
  const double slice_seconds = std::chrono::duration<double>(slice).count();
  double total = 0;
  for (const auto& stage : stages) total += std::chrono::duration<double>(stage.duration).count();
  const auto slices = static_cast<std::size_t>(std::ceil(total / slice_seconds - 1e-9));
  std::size_t current = 0;
  double stage_start = 0;
  double from = start_rps;
  for (std::size_t k = 0; k < slices; ++k) {
    const double middle = (static_cast<double>(k) + 0.5) * slice_seconds;
    while (current + 1 < stages.size() &&
           middle >= stage_start + std::chrono::duration<double>(stages[current].duration).count()) {
      stage_start += std::chrono::duration<double>(stages[current].duration).count();
      from = stages[current].target_rps;
      ++current;
    }
    const double length = std::chrono::duration<double>(stages[current].duration).count();
    const double fraction = length > 0 ? std::clamp((middle - stage_start) / length, 0.0, 1.0) : 1.0;
    plan.rps.push_back(from + (stages[current].target_rps - from) * fraction);
  }
  return plan;
}

RatePlan plan_from_rates(std::span<const double> per_second_rps) {
  RatePlan plan;
  plan.slice = std::chrono::seconds(1);
  plan.rps.assign(per_second_rps.begin(), per_second_rps.end());
  return plan;
}

std::vector<double> poisson_arrivals(const RatePlan& plan, std::mt19937_64& rng) {
  std::vector<double> arrivals;
  arrivals.reserve(static_cast<std::size_t>(plan.expected_requests() * 1.1) + 16);
  std::exponential_distribution<double> unit_gap(1.0);
  const double slice_seconds = std::chrono::duration<double>(plan.slice).count();
  // Walk the integrated rate: each arrival is where it has grown by one more Exp(1) draw.
  double need = unit_gap(rng);
  for (std::size_t i = 0; i < plan.rps.size(); ++i) {
    const double rate = plan.rps[i];
    double at = static_cast<double>(i) * slice_seconds;
    const double end = at + slice_seconds;
    if (rate <= 0) continue;
    while (at + need / rate < end) {
      at += need / rate;
      arrivals.push_back(at);
      need = unit_gap(rng);
    }
    need -= (end - at) * rate;
  }
  return arrivals;
}

}  // namespace maestro::local
