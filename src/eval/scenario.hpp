// Evaluation scenarios: the traffic, the simulated service and its SLO, for how long. A scenario is a
// built-in name (steady, diurnal, ramp, flash-crowd, noise; nasa and worldcup: two days of each trace's
// test window, traffic/splits.hpp; nasa-validation and worldcup-validation: their validation windows), a
// YAML file (see scenarios/README.md), or a trace file replayed with documented defaults (from its start,
// peak 800 requests/s, a day or the whole trace if shorter). Traces replay at real time: a speed-up other
// than 1 is refused, since the rest of the scenario's durations would stay in real seconds. Command-line
// overrides (peak, start-up delay, chaos, duration) apply last; a built-in trace scenario stays inside
// its split window.
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "sim/cluster.hpp"
#include "traffic/shape.hpp"

namespace maestro::eval {

struct Scenario {
  std::string name;
  std::string description;
  traffic::ShapeSpec traffic;
  int duration_seconds = 3000;
  sim::ClusterConfig cluster;
  // Replicas at time 0; unset: what the first minute's busiest second needs (a deployment in steady state).
  std::optional<int> initial_replicas;
};

// The replicas a run of `scenario` over `arrivals` starts with.
int initial_replicas_for(const Scenario& scenario, std::span<const double> arrivals);

struct ScenarioOverrides {
  std::optional<double> peak_rps;
  std::optional<double> startup_seconds;
  std::optional<bool> chaos;  // true: the chaos preset (chaos_preset()); false: none
  std::optional<int> duration_seconds;
  std::optional<double> speedup;  // anything but 1 is refused
};

// Pod kills 6 an hour (15 s restart), CPU stress 6 an hour (2 min, half the pod's CPU).
sim::ChaosModel chaos_preset();

std::vector<std::string> builtin_scenario_names();
// The built-ins that replay no trace (steady, diurnal, ramp, flash-crowd, noise): they need no shared folder.
std::vector<std::string> synthetic_scenario_names();

// `spec` is a built-in name, a YAML scenario file or a trace file. Traces named by built-ins are read from
// `shared_dir`/traces; with an empty `shared_dir` (none found) such a scenario is an error that says how to
// name the folder, and every other scenario resolves as usual. The result is validated.
Result<Scenario> resolve_scenario(const std::string& spec, const ScenarioOverrides& overrides,
                                  const std::filesystem::path& shared_dir);

// The requests arriving in each second of a run with `seed`: the same for every policy.
std::vector<double> scenario_arrivals(const Scenario& scenario, std::uint64_t seed);

Result<Scenario> validate(const Scenario& scenario);

// Where the shared traces are: `explicit_dir` if given, else $MAESTRO_SHARED_DIR (`env_value`), else
// ../shared beside the repository the executable was built in (build/maestro → ../../shared), else
// ../shared from the working directory. An error if `explicit_dir` is given and holds no traces/; an empty
// path if nothing was asked for and none of the others does (an image has no shared/: synthetic scenarios
// still run).
Result<std::filesystem::path> locate_shared_dir(const std::string& explicit_dir, const char* env_value,
                                                const std::filesystem::path& executable);

}  // namespace maestro::eval
