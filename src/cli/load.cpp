// `maestro load`: open-model HTTP load on a service (local::run_load) — an arrival rate from k6-like stages
// (--stages 30s:20,2m:20,30s:0), from a trace window scaled to a peak (--trace FILE --peak RPS --duration S
// [--window-start S]) or from a synthetic shape (--shape ramp --peak RPS --duration S), the last two rendered
// by the same traffic library the simulator uses. Prints progress, then the rate achieved and the client-side
// latency percentiles; exits 3 if it could not keep up with the rate asked.

#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "cli/stop_signals.hpp"
#include "local/load_generator.hpp"
#include "traffic/shape.hpp"
#include "traffic/trace.hpp"

namespace maestro::cli {
namespace {

constexpr int kCouldNotKeepUp = 3;

struct Options {
  std::string target;
  std::string path = "/work";
  std::string method = "GET";
  std::string stages;
  double start_rps = 0;
  std::string trace;
  std::string shape;
  double peak_rps = 0;
  double duration_seconds = 0;
  double window_start_seconds = 0;
  double rate_window_seconds = 60;
  int concurrency = 64;
  int timeout_ms = 10'000;
  bool keep_alive = false;
  std::uint64_t seed = 1;
  double progress_seconds = 10;
  std::string report;
};

local::RatePlan plan_of(const Options& options) {
  const int sources = !options.stages.empty() + !options.trace.empty() + !options.shape.empty();
  if (sources != 1) throw CLI::ValidationError("--stages/--trace/--shape", "give exactly one of them");
  if (!options.stages.empty()) {
    auto stages = local::parse_stages(options.stages);
    if (!stages) throw CLI::ValidationError("--stages", stages.error().message);
    return local::plan_from_stages(*stages, options.start_rps);
  }
  if (options.peak_rps <= 0 || options.duration_seconds < 1)
    throw CLI::ValidationError("--peak/--duration", "a trace or shape needs --peak > 0 and --duration ≥ 1");
  traffic::ShapeSpec spec;
  spec.peak_rps = options.peak_rps;
  if (!options.trace.empty()) {
    auto trace = traffic::load_trace(options.trace);
    if (!trace) throw CommandFailed(trace.error().message);
    spec.kind = traffic::ShapeKind::kTrace;
    spec.trace = std::make_shared<const traffic::Trace>(std::move(*trace));
    spec.window_start_seconds = options.window_start_seconds;
    spec.rate_window_seconds = options.rate_window_seconds;
  } else {
    const auto kind = traffic::shape_from_name(options.shape);
    if (!kind || *kind == traffic::ShapeKind::kTrace)
      throw CLI::ValidationError("--shape", "steady, diurnal, ramp, flash-crowd or noise");
    spec.kind = *kind;
  }
  auto valid = traffic::validate(spec, options.duration_seconds);
  if (!valid) throw CLI::ValidationError("--trace/--shape", valid.error().message);
  std::mt19937_64 rng(options.seed);
  const auto rates = traffic::render_rates(*valid, static_cast<int>(options.duration_seconds), rng);
  return local::plan_from_rates(rates);
}

void run(const Options& options) {
  const local::RatePlan plan = plan_of(options);
  local::LoadOptions load;
  load.target = options.target;
  load.path = options.path;
  load.method = options.method;
  load.concurrency = options.concurrency;
  load.timeout = std::chrono::milliseconds(options.timeout_ms);
  load.new_connection_per_request = !options.keep_alive;
  load.progress_every = std::chrono::milliseconds(static_cast<long long>(options.progress_seconds * 1000));
  load.on_progress = [](const local::LoadProgress& progress) {
    std::cout << fmt::format(
                     "load t={:.0f}s asked={:.1f}/s sent={:.1f}/s ok={:.1f}/s p95={:.1f}ms in_flight={}",
                     progress.elapsed_seconds, progress.asked_rps, progress.sent_rps, progress.ok_rps,
                     progress.p95_ms, progress.in_flight)
              << std::endl;
  };
  std::cout << fmt::format("maestro load: {:.0f} s, {:.0f} requests expected, to {}{}",
                           plan.duration_seconds(), plan.expected_requests(), options.target, options.path)
            << std::endl;

  // Ctrl-C ends the run early; the report covers what ran.
  const local::LoadReport report = [&] {
    const StopOnSignals stop;
    return local::run_load(plan, load, options.seed, stop.requested());
  }();

  std::cout << report.summary() << std::endl;
  if (!options.report.empty()) {
    std::ofstream file(options.report);
    file << report.to_json().dump(2) << "\n";
    if (!file) throw CommandFailed("cannot write " + options.report);
  }
  if (!report.kept_up) throw CommandFailed("could not keep up with the rate asked", kCouldNotKeepUp);
}

const Registration kRegistration{
    "load", [](CLI::App& maestro) {
      auto options = std::make_shared<Options>();
      auto* command = maestro.add_subcommand(
          "load", "Open-model HTTP load: an arrival rate from stages, a trace or a shape");
      command->add_option("--target", options->target, "Base URL, e.g. http://127.0.0.1:8080")->required();
      command->add_option("--path", options->path, "Request path")->capture_default_str();
      command->add_option("--method", options->method, "Request method")->capture_default_str();
      command->add_option("--stages", options->stages,
                          "k6-like DURATION:TARGET_RPS,... (ramp linearly to each target)");
      command->add_option("--start-rps", options->start_rps, "The rate the first stage ramps from")
          ->capture_default_str();
      command->add_option("--trace", options->trace, "A trace file (requests per second, or per-minute CSV)");
      command->add_option("--shape", options->shape, "steady, diurnal, ramp, flash-crowd or noise");
      command->add_option("--peak", options->peak_rps, "Trace or shape: the peak rate, requests/s");
      command->add_option("--duration", options->duration_seconds, "Trace or shape: seconds to run");
      command
          ->add_option("--window-start", options->window_start_seconds,
                       "Trace: the second of the trace to start at")
          ->capture_default_str();
      command
          ->add_option("--rate-window", options->rate_window_seconds,
                       "Trace: seconds its rate is averaged over")
          ->capture_default_str();
      command->add_option("--concurrency", options->concurrency, "Requests in flight at most")
          ->check(CLI::Range(1, 4096))
          ->capture_default_str();
      command->add_option("--timeout-ms", options->timeout_ms, "Per request")
          ->check(CLI::Range(1, 600'000))
          ->capture_default_str();
      command->add_flag(
          "--keep-alive", options->keep_alive,
          "Reuse connections (a Service then balances only new ones: pods added later get little load)");
      command->add_option("--seed", options->seed, "Arrivals (and a shape's noise) are drawn from it")
          ->capture_default_str();
      command->add_option("--progress-seconds", options->progress_seconds, "Seconds between progress lines")
          ->check(CLI::PositiveNumber)
          ->capture_default_str();
      command->add_option("--report", options->report, "Write the report as JSON to this file");
      command->callback([options] { run(*options); });
    }};

}  // namespace
}  // namespace maestro::cli
