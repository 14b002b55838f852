// `maestro calibrate [--config LOCAL_CONFIG] --out SCENARIO.yaml`: measures one deployment on a local cluster
// it starts itself (calibrate::measure: CPU per request, capacity per pod, p50/p95, CPU and CFS throttling at
// several loads with one and several pods, start-up), fits the simulator to it (calibrate::fit_cluster) and
// writes a scenario file whose cluster section reproduces it, the measurements as comments; prints the
// measured and simulated figures side by side.

#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "calibrate/fit.hpp"
#include "calibrate/measure.hpp"
#include "cli/command.hpp"
#include "cli/stop_signals.hpp"
#include "local/local_cluster.hpp"

namespace maestro::cli {
namespace {

struct Options {
  std::string config;
  std::string out;
  std::string deployment;
  std::string save;  // the measurements as JSON
  std::string from;  // fit these instead of measuring
  calibrate::MeasureOptions measure;
  double level_seconds = 10;
  double capacity_step_seconds = 6;
  double steady_fraction = 0.6;
  int duration_seconds = 1800;
};

void run(const Options& options) {
  const std::string invocation =
      fmt::format("maestro calibrate{} --out {}", options.config.empty() ? "" : " --config " + options.config,
                  options.out);
  local::LocalConfig config;
  if (!options.config.empty()) {
    auto loaded = local::load_local_config(options.config);
    if (!loaded) throw CLI::ValidationError("--config", loaded.error().message);
    config = std::move(*loaded);
  }
  // A cluster of its own beside any `local up`: its own state folder, free ports, no Prometheus (the
  // pods' cgroup counters and the load generator's latencies are read directly).
  config.state_dir /= "calibrate";
  config.api_listen = "127.0.0.1:0";
  config.prometheus_binary = "";
  auto measure = options.measure;
  const local::LocalDeploymentConfig* chosen = nullptr;
  for (auto& deployment : config.deployments) {
    deployment.listen = "127.0.0.1:0";
    if (options.deployment.empty() || deployment.name == options.deployment)
      chosen = chosen ? chosen : &deployment;
  }
  if (!chosen) throw CLI::ValidationError("--deployment", "no such deployment in the configuration");
  measure.namespace_ = chosen->namespace_;
  measure.deployment = chosen->name;
  measure.cpu_limit_cores = chosen->limits.cpu_cores;
  if (measure.cpu_limit_cores <= 0)
    throw CommandFailed("the deployment has no CPU limit (cpu: 0): there is no capacity to calibrate");
  measure.level_duration = std::chrono::milliseconds(static_cast<long long>(options.level_seconds * 1000));
  measure.capacity_step =
      std::chrono::milliseconds(static_cast<long long>(options.capacity_step_seconds * 1000));
  measure.on_progress = [](const std::string& line) { std::cout << "calibrate: " << line << std::endl; };

  Result<calibrate::Measurements> measured = fail("not measured");
  if (!options.from.empty()) {
    std::ifstream saved(options.from);
    const auto json = nlohmann::json::parse(saved, nullptr, false);
    if (json.is_discarded()) throw CommandFailed("cannot read measurements from " + options.from);
    measured = json.get<calibrate::Measurements>();
  } else {
    const StopOnSignals stop;  // Ctrl-C ends the measurement early
    local::LocalCluster cluster(config);
    if (auto started = cluster.start(); !started) {
      cluster.stop();
      throw CommandFailed(started.error().message);
    }
    std::cout << fmt::format("calibrate: measuring {}/{} ({} cores a pod); this takes several minutes",
                             measure.namespace_, measure.deployment, measure.cpu_limit_cores)
              << std::endl;
    measured = calibrate::measure(cluster, measure, stop.requested());
    cluster.stop();
  }
  if (!measured) throw CommandFailed(measured.error().message);
  if (!options.save.empty()) {
    std::ofstream saved(options.save);
    saved << nlohmann::json(*measured).dump(2) << "\n";
    if (!saved) throw CommandFailed("cannot write " + options.save);
  }
  auto fit = calibrate::fit_cluster(*measured);
  if (!fit) throw CommandFailed(fit.error().message);
  const int most_pods = *std::max_element(measure.pod_counts.begin(), measure.pod_counts.end());
  fit->cluster.bounds = {1, std::max(4, 2 * most_pods)};
  fit->cluster.initial_replicas = most_pods;
  const double steady_rps = options.steady_fraction * measured->capacity_rps_per_pod * most_pods;

  std::ofstream file(options.out);
  file << calibrate::scenario_yaml(*measured, *fit, steady_rps, options.duration_seconds, invocation);
  if (!file) throw CommandFailed("cannot write " + options.out);
  std::cout << fmt::format(
      "calibrate: CPU {:.2f} ms a request, idle {:.4f} cores a pod, capacity {:.1f} requests/s a pod, "
      "start-up {:.2f} s; fitted base latency {:.1f} ms, service-time cv {:.2f} (p95 rms log error {:.3f})\n",
      1000 * measured->cpu_seconds_per_request, measured->idle_cpu_cores, measured->capacity_rps_per_pod,
      measured->startup_seconds, fit->cluster.service.base_latency_ms, fit->cluster.service.service_time_cv,
      fit->rms_log_error);
  std::cout << "fitted runs:\n" << calibrate::comparison_table(*measured, fit->cluster);
  if (!measured->holdout.empty())
    std::cout << "held-out runs (never fitted):\n"
              << calibrate::comparison_table(*measured, fit->cluster, true);
  std::cout << "calibrate: wrote " << options.out << std::endl;
}

const Registration kRegistration{
    "calibrate", [](CLI::App& maestro) {
      auto options = std::make_shared<Options>();
      auto* command = maestro.add_subcommand(
          "calibrate",
          "Measure a deployment on the local cluster and write a simulator scenario that matches it");
      command->add_option("--config", options->config, "The local cluster's YAML (docs/local-cluster.md)")
          ->check(CLI::ExistingFile);
      command->add_option("--out", options->out, "The scenario file to write")->required();
      command->add_option("--save", options->save, "Also write the measurements as JSON to this file");
      command->add_option("--from", options->from, "Fit measurements saved by --save instead of measuring")
          ->check(CLI::ExistingFile);
      command->add_option("--deployment", options->deployment, "Which deployment (default: the first)");
      command->add_option("--slo-soft-ms", options->measure.slo_soft_ms, "Capacity: the p95 a pod may reach")
          ->check(CLI::PositiveNumber)
          ->capture_default_str();
      command->add_option("--slo-hard-ms", options->measure.slo_hard_ms, "Written into the scenario")
          ->check(CLI::PositiveNumber)
          ->capture_default_str();
      command->add_option("--fractions", options->measure.fractions, "Load levels, fractions of capacity")
          ->delimiter(',')
          ->capture_default_str();
      command->add_option("--pods", options->measure.pod_counts, "Pod counts to measure the levels with")
          ->delimiter(',')
          ->check(CLI::Range(1, 8))
          ->capture_default_str();
      command
          ->add_option("--capacity-searches", options->measure.capacity_searches,
                       "Capacity searches (median)")
          ->check(CLI::Range(1, 20))
          ->capture_default_str();
      command->add_option("--repeats", options->measure.repeats, "Runs per level (medians)")
          ->check(CLI::Range(1, 20))
          ->capture_default_str();
      command->add_option("--level-seconds", options->level_seconds, "Length of one run of one level")
          ->check(CLI::Range(1.0, 600.0))
          ->capture_default_str();
      command
          ->add_option("--capacity-step-seconds", options->capacity_step_seconds, "Length of a capacity step")
          ->check(CLI::Range(1.0, 600.0))
          ->capture_default_str();
      command->add_flag("!--no-holdout", options->measure.holdout,
                        "Skip the held-out run after each run of a level (halves the levels' time)");
      command->add_option("--startup-trials", options->measure.startup_trials, "Scale-ups timed")
          ->check(CLI::Range(1, 20))
          ->capture_default_str();
      command
          ->add_option("--steady-fraction", options->steady_fraction,
                       "The scenario's steady traffic: this fraction of the largest pod count's capacity")
          ->check(CLI::Range(0.01, 2.0))
          ->capture_default_str();
      command->add_option("--duration", options->duration_seconds, "The scenario's duration, s")
          ->check(CLI::Range(15, 86400))
          ->capture_default_str();
      command->callback([options] { run(*options); });
    }};

}  // namespace
}  // namespace maestro::cli
