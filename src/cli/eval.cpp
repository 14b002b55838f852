// maestro eval: runs policies (a trained PPO policy and the baselines) on one scenario with the same seeds,
// prints the results table and writes results.json, a CSV time series per policy and report.html.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "base/clock.hpp"
#include "cli/command.hpp"
#include "eval/policies.hpp"
#include "eval/report.hpp"
#include "eval/runner.hpp"
#include "eval/scenario.hpp"

namespace maestro::cli {
namespace {

namespace fs = std::filesystem;

struct EvalOptions {
  std::string scenario;
  std::vector<std::string> policies;
  int seeds = 5;
  std::string out = "eval-out";
  std::optional<double> peak_rps;
  std::optional<double> startup_seconds;
  bool chaos = false;
  std::optional<int> duration;
  std::optional<double> speedup;
  unsigned threads = 0;
  std::string shared_dir;
};

void run_eval(const EvalOptions& options) {
  const auto shared = eval::locate_shared_dir(options.shared_dir, std::getenv("MAESTRO_SHARED_DIR"),
                                              fs::read_symlink("/proc/self/exe"));
  if (!shared) throw CLI::ValidationError("--shared-dir", shared.error().message);
  eval::ScenarioOverrides overrides{options.peak_rps, options.startup_seconds,
                                    options.chaos ? std::optional<bool>(true) : std::nullopt,
                                    options.duration, options.speedup};
  const auto scenario = eval::resolve_scenario(options.scenario, overrides, *shared);
  if (!scenario) throw CLI::ValidationError("--scenario", scenario.error().message);
  std::vector<eval::PolicyEntry> policies;
  for (const auto& spec : options.policies) {
    auto entries = eval::policy_entries(spec, *scenario);
    if (!entries) throw CLI::ValidationError("--policy", entries.error().message);
    for (auto& entry : *entries) policies.push_back(std::move(entry));
  }
  std::vector<std::uint64_t> seeds;
  for (int i = 1; i <= options.seeds; ++i) seeds.push_back(static_cast<std::uint64_t>(i));

  std::cerr << "scenario " << scenario->name << ": " << scenario->description << "\n";
  const std::size_t total = policies.size() * seeds.size();
  std::size_t done = 0;
  const base::RealClock clock;
  const auto started = clock.now();
  const auto evaluation = eval::evaluate(
      *scenario, policies, seeds,
      [&](const std::string& policy, std::uint64_t seed) {
        ++done;
        std::cerr << "\r[" << done << "/" << total << "] " << policy << " seed " << seed << "            "
                  << std::flush;
      },
      options.threads);
  std::cerr << fmt::format("\n{} runs of {} s simulated in {:.1f} s\n", total, scenario->duration_seconds,
                           std::chrono::duration<double>(clock.now() - started).count());
  if (auto written = eval::write_outputs(evaluation, options.out); !written) {
    std::cerr << written.error().message << "\n";
    throw CommandFailed(written.error().message);
  }
  std::cout << eval::results_table(evaluation);
  std::cout << "report: " << (fs::path(options.out) / "report.html").string() << "\n";
}

const Registration kRegistration{
    "eval", [](CLI::App& maestro) {
      auto options = std::make_shared<EvalOptions>();
      auto* command = maestro.add_subcommand(
          "eval",
          "Evaluate policies against the baselines on a simulated scenario (same seeds for every policy)");
      command
          ->add_option("--scenario", options->scenario,
                       "built-in name (steady, diurnal, ramp, flash-crowd, noise; nasa, worldcup: test "
                       "windows; nasa-validation, worldcup-validation; nasa-train, worldcup-train: 14 days "
                       "of training "
                       "windows), a YAML scenario file or a trace file")
          ->required();
      command
          ->add_option(
              "--policy", options->policies,
              "hpa, hpa:T[:W], hpa-sweep, kpa, kpa:T, kpa-sweep, static, static:N, static-sweep, "
              "oracle (its schedule; the lower bound is always reported), oracle:P, oracle-sweep (foresight "
              "schedules pricing a request over the SLO at P pod-seconds), ppo:FILE (repeat the flag)")
          ->required();
      command->add_option("--seeds", options->seeds, "number of seeds (1..K)")->check(CLI::Range(1, 1000));
      command->add_option("--out", options->out, "output directory")->capture_default_str();
      command->add_option("--peak-rps", options->peak_rps, "scale the traffic to this peak")
          ->check(CLI::PositiveNumber);
      command->add_option("--startup-seconds", options->startup_seconds, "median pod start-up delay")
          ->check(CLI::NonNegativeNumber);
      command->add_flag("--chaos", options->chaos, "pod kills and CPU stress (6 an hour each)");
      command->add_option("--duration", options->duration, "seconds to simulate")
          ->check(CLI::Range(15, 30 * 86400));
      command->add_option("--speedup", options->speedup,
                          "trace replay speed: only 1 (real time) is accepted; a compressed replay would "
                          "leave start-up, intervals and windows in real seconds");
      command->add_option("--threads", options->threads, "runs in parallel (0: one per core; same results)")
          ->capture_default_str();
      command->add_option("--shared-dir", options->shared_dir, "the shared/ folder with traces/");
      command->callback([options] { run_eval(*options); });
    }};

}  // namespace
}  // namespace maestro::cli
