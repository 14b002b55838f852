#include "eval/scenario.hpp"

#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>

#include <map>
#include <memory>
#include <random>
#include <set>

#include "eval/baselines.hpp"
#include "traffic/splits.hpp"
#include "traffic/trace.hpp"

namespace maestro::eval {
namespace {

namespace fs = std::filesystem;

constexpr double kDefaultPeakRps = 800;
constexpr int kDefaultDuration = 3000;

Result<std::shared_ptr<const traffic::Trace>> shared_trace(const fs::path& path) {
  // Traces are large and read-only: load each file once per process.
  static std::map<std::string, std::shared_ptr<const traffic::Trace>> cache;
  const std::string key = fs::absolute(path).lexically_normal().string();
  if (auto found = cache.find(key); found != cache.end()) return found->second;
  auto trace = traffic::load_trace(path.string());
  if (!trace) return std::unexpected(trace.error());
  auto shared = std::make_shared<const traffic::Trace>(std::move(*trace));
  cache.emplace(key, shared);
  return shared;
}

Scenario base_scenario(std::string name, std::string description) {
  Scenario scenario;
  scenario.name = std::move(name);
  scenario.description = std::move(description);
  scenario.traffic.peak_rps = kDefaultPeakRps;
  scenario.duration_seconds = kDefaultDuration;
  return scenario;
}

// The built-in trace scenarios: two days of each test window (World Cup's holds the busiest minute), the
// validation windows policies are chosen on, and 14 days of each training window (what foresight is cloned
// on, eval/imitation.hpp), all at real time.
struct BuiltinTraceWindow {
  std::string trace;
  traffic::SplitPart part;
  double start_seconds;
  double duration_seconds;
  std::string dates;
};

std::optional<BuiltinTraceWindow> builtin_trace_window(const std::string& name) {
  constexpr double kDay = 86400;
  using traffic::SplitPart;
  // A copy: split_for returns by value, and a reference into it would dangle.
  const auto nasa_validation = traffic::split_for("nasa-http-1995")->validation;
  if (name == "nasa")
    return BuiltinTraceWindow{"nasa-http-1995", SplitPart::kTest, traffic::kNasaAugust1Seconds + 6 * kDay,
                              2 * kDay, "Monday 7 and Tuesday 8 August 1995"};
  if (name == "nasa-validation")
    return BuiltinTraceWindow{"nasa-http-1995", SplitPart::kValidation, nasa_validation.start_seconds,
                              nasa_validation.length_seconds(), "all of it"};
  if (name == "worldcup")
    return BuiltinTraceWindow{"worldcup98", SplitPart::kTest, 899'769'600 - traffic::kWorldCupStartUnix,
                              2 * kDay, "7 and 8 July 1998 UTC, with the busiest minute (7 July 21:41)"};
  const auto nasa_train = traffic::split_for("nasa-http-1995")->train;
  const auto worldcup_train = traffic::split_for("worldcup98")->train;
  if (name == "nasa-train")
    return BuiltinTraceWindow{"nasa-http-1995", SplitPart::kTrain, nasa_train.start_seconds,
                              std::min(14 * kDay, nasa_train.length_seconds()), "its first 14 days"};
  if (name == "worldcup-train")
    return BuiltinTraceWindow{
        "worldcup98", SplitPart::kTrain,
        worldcup_train.end_seconds - std::min(14 * kDay, worldcup_train.length_seconds()),
        std::min(14 * kDay, worldcup_train.length_seconds()), "its last 14 days"};
  if (name == "worldcup-validation")
    return BuiltinTraceWindow{"worldcup98", SplitPart::kValidation, 899'078'400 - traffic::kWorldCupStartUnix,
                              2 * kDay, "29 and 30 June 1998 UTC"};
  return std::nullopt;
}

Result<void> refuse_speedup(double speedup) {
  if (speedup == 1) return {};
  return fail(
      "a speed-up of {} is refused: traces replay at real time (x1), because compressing the traffic alone "
      "would leave pod start-up, the control interval, the HPA's windows, the metrics window and the chaos "
      "rates in real seconds — a different system from the one a policy runs in. Shorten the run with "
      "duration_seconds / --duration instead",
      speedup);
}

// The file of a built-in trace in the shared folder, or why it cannot be had.
Result<std::shared_ptr<const traffic::Trace>> builtin_trace(const std::string& scenario,
                                                            const std::string& file,
                                                            const fs::path& shared_dir) {
  if (shared_dir.empty())
    return fail(
        "scenario '{}' replays {} from the shared folder's traces/, and none was found: pass --shared-dir or "
        "set MAESTRO_SHARED_DIR, or choose a synthetic scenario ({})",
        scenario, file, fmt::join(synthetic_scenario_names(), ", "));
  return shared_trace(shared_dir / "traces" / file);
}

Result<Scenario> builtin(const std::string& name, const fs::path& shared_dir) {
  using traffic::ShapeKind;
  Scenario s = base_scenario(name, "");
  auto& t = s.traffic;
  if (name == "steady") {
    s.description = "steady 400 requests/s with 10 % noise";
    t.kind = ShapeKind::kSteady;
    t.peak_rps = 400;
    t.noise = 0.1;
  } else if (name == "diurnal") {
    s.description = "one day in 3000 s, 20 % to 100 % of 800 requests/s, 10 % noise";
    t.kind = ShapeKind::kDiurnal;
    t.period_seconds = 3000;
    t.noise = 0.1;
  } else if (name == "ramp") {
    s.description = "100 to 800 requests/s over 10 minutes from t = 600 s";
    t.kind = ShapeKind::kRamp;
    t.base_fraction = 0.125;
    t.event_at_seconds = 600;
    t.rise_seconds = 600;
  } else if (name == "flash-crowd") {
    s.description =
        "10x flash crowd at t = 900 s: 100 to 1000 requests/s in 60 s, 5 min at peak, 10 min decay";
    t.kind = ShapeKind::kFlashCrowd;
    t.peak_rps = 1000;
    t.base_fraction = 0.1;
    t.event_at_seconds = 900;
    t.rise_seconds = 60;
    t.hold_seconds = 300;
    t.decay_seconds = 600;
    t.noise = 0.05;
  } else if (name == "noise") {
    s.description = "400 requests/s with 30 % correlated noise";
    t.kind = ShapeKind::kNoise;
    t.base_fraction = 0.5;
    t.noise = 0.3;
  } else if (const auto window = builtin_trace_window(name)) {
    const auto split = *traffic::split_for(window->trace);
    auto trace = builtin_trace(name, split.file, shared_dir);
    if (!trace) return std::unexpected(trace.error());
    const auto& part = split.part(window->part);
    s.description = fmt::format("{} {} window: {} ({:.1f} h of {}) at real time", window->trace,
                                window->part == traffic::SplitPart::kTest         ? "test"
                                : window->part == traffic::SplitPart::kValidation ? "validation"
                                                                                  : "training",
                                window->dates, window->duration_seconds / 3600, part.dates);
    t.kind = ShapeKind::kTrace;
    t.trace = *trace;
    t.window_start_seconds = window->start_seconds;
    t.window_end_seconds = part.end_seconds;
    s.duration_seconds = static_cast<int>(window->duration_seconds);
  } else {
    return fail("unknown scenario '{}'", name);
  }
  return s;
}

Result<Scenario> from_trace_file(const fs::path& path) {
  auto trace = shared_trace(path);
  if (!trace) return std::unexpected(trace.error());
  Scenario s = base_scenario(path.filename().string(), "");
  s.traffic.kind = traffic::ShapeKind::kTrace;
  s.traffic.trace = *trace;
  s.duration_seconds = static_cast<int>(std::min(86400.0, (*trace)->duration_seconds()));
  s.description = fmt::format("trace {} from its start at real time, peak {} requests/s", path.string(),
                              s.traffic.peak_rps);
  return s;
}

// Reads `key` of a YAML map into `out` if present; the error names the key.
template <typename T>
Result<void> read(const YAML::Node& map, const std::string& key, T& out, std::set<std::string>& known) {
  known.insert(key);
  const YAML::Node node = map[key];
  if (!node) return {};
  try {
    out = node.as<T>();
  } catch (const YAML::Exception&) {
    return fail("'{}' has a value of the wrong type", key);
  }
  return {};
}

Result<void> refuse_unknown(const YAML::Node& map, const std::set<std::string>& known,
                            const std::string& where) {
  for (const auto& entry : map) {
    const auto key = entry.first.as<std::string>();
    if (!known.contains(key)) return fail("unknown key '{}' in {}", key, where);
  }
  return {};
}

Result<Scenario> from_yaml(const fs::path& path, const fs::path& shared_dir) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path.string());
  } catch (const YAML::Exception& e) {
    return fail("cannot read scenario file {}: {}", path.string(), e.what());
  }
  if (!root.IsMap()) return fail("scenario file {}: expected a map at the top", path.string());
  std::set<std::string> known{"traffic", "cluster", "chaos"};
  Scenario s = base_scenario(path.stem().string(), "");
  MAESTRO_TRY(read(root, "name", s.name, known));
  MAESTRO_TRY(read(root, "description", s.description, known));
  MAESTRO_TRY(read(root, "duration_seconds", s.duration_seconds, known));
  if (auto ok = refuse_unknown(root, known, "the scenario"); !ok) return std::unexpected(ok.error());

  if (const YAML::Node t = root["traffic"]) {
    if (!t.IsMap()) return fail("scenario file {}: 'traffic' must be a map", path.string());
    std::set<std::string> k;
    std::string shape = "steady", trace;
    auto& spec = s.traffic;
    MAESTRO_TRY(read(t, "shape", shape, k));
    MAESTRO_TRY(read(t, "trace", trace, k));
    MAESTRO_TRY(read(t, "peak_rps", spec.peak_rps, k));
    MAESTRO_TRY(read(t, "base_fraction", spec.base_fraction, k));
    MAESTRO_TRY(read(t, "period_seconds", spec.period_seconds, k));
    MAESTRO_TRY(read(t, "event_at_seconds", spec.event_at_seconds, k));
    MAESTRO_TRY(read(t, "rise_seconds", spec.rise_seconds, k));
    MAESTRO_TRY(read(t, "hold_seconds", spec.hold_seconds, k));
    MAESTRO_TRY(read(t, "decay_seconds", spec.decay_seconds, k));
    MAESTRO_TRY(read(t, "noise", spec.noise, k));
    MAESTRO_TRY(read(t, "window_start_seconds", spec.window_start_seconds, k));
    MAESTRO_TRY(read(t, "rate_window_seconds", spec.rate_window_seconds, k));
    double speedup = 1;
    MAESTRO_TRY(read(t, "speedup", speedup, k));
    if (auto ok = refuse_speedup(speedup); !ok)
      return fail("scenario file {}: {}", path.string(), ok.error().message);
    if (auto ok = refuse_unknown(t, k, "traffic"); !ok) return std::unexpected(ok.error());
    const auto kind = traffic::shape_from_name(shape);
    if (!kind) return fail("scenario file {}: unknown traffic shape '{}'", path.string(), shape);
    spec.kind = *kind;
    if (spec.kind == traffic::ShapeKind::kTrace) {
      if (trace.empty()) return fail("scenario file {}: a trace shape needs 'trace'", path.string());
      fs::path trace_path(trace);
      if (trace_path.is_relative()) trace_path = path.parent_path() / trace_path;
      auto loaded = trace == "nasa"       ? builtin_trace(s.name, "nasa-http-1995.rps.gz", shared_dir)
                    : trace == "worldcup" ? builtin_trace(s.name, "worldcup98.rpm.csv.gz", shared_dir)
                                          : shared_trace(trace_path);
      if (!loaded) return std::unexpected(loaded.error());
      spec.trace = *loaded;
    }
  }
  auto& c = s.cluster;
  if (const YAML::Node n = root["cluster"]) {
    if (!n.IsMap()) return fail("scenario file {}: 'cluster' must be a map", path.string());
    std::set<std::string> k;
    MAESTRO_TRY(read(n, "min_replicas", c.bounds.min, k));
    MAESTRO_TRY(read(n, "max_replicas", c.bounds.max, k));
    int initial = 0;
    MAESTRO_TRY(read(n, "initial_replicas", initial, k));
    if (n["initial_replicas"]) s.initial_replicas = c.initial_replicas = initial;
    MAESTRO_TRY(read(n, "startup_seconds", c.startup.median_seconds, k));
    MAESTRO_TRY(read(n, "startup_spread", c.startup.spread, k));
    MAESTRO_TRY(read(n, "drain_seconds", c.drain_seconds, k));
    MAESTRO_TRY(read(n, "cpu_limit_cores", c.service.cpu_limit_cores, k));
    MAESTRO_TRY(read(n, "cpu_request_cores", c.service.cpu_request_cores, k));
    MAESTRO_TRY(read(n, "cpu_seconds_per_request", c.service.cpu_seconds_per_request, k));
    MAESTRO_TRY(read(n, "base_latency_ms", c.service.base_latency_ms, k));
    MAESTRO_TRY(read(n, "idle_cpu_cores", c.service.idle_cpu_cores, k));
    MAESTRO_TRY(read(n, "service_cores", c.service.service_cores, k));
    std::string service_time = "exponential";
    MAESTRO_TRY(read(n, "service_time", service_time, k));
    if (service_time != "exponential" && service_time != "lognormal")
      return fail("scenario file {}: service_time must be exponential or lognormal, not '{}'", path.string(),
                  service_time);
    if (service_time == "lognormal") c.service.service_time = sim::ServiceTimeDistribution::kLogNormal;
    MAESTRO_TRY(read(n, "service_time_cv", c.service.service_time_cv, k));
    MAESTRO_TRY(read(n, "warmup_seconds", c.warmup.seconds, k));
    MAESTRO_TRY(read(n, "warmup_initial_speed", c.warmup.initial_speed, k));
    MAESTRO_TRY(read(n, "timeout_seconds", c.service.timeout_seconds, k));
    MAESTRO_TRY(read(n, "metrics_window_seconds", c.metrics.window_seconds, k));
    double soft = *c.slo.soft_ms, hard = *c.slo.hard_ms;
    MAESTRO_TRY(read(n, "slo_soft_ms", soft, k));
    MAESTRO_TRY(read(n, "slo_hard_ms", hard, k));
    c.slo = {soft, hard};
    if (auto ok = refuse_unknown(n, k, "cluster"); !ok) return std::unexpected(ok.error());
  }
  if (const YAML::Node n = root["chaos"]) {
    if (!n.IsMap()) return fail("scenario file {}: 'chaos' must be a map", path.string());
    std::set<std::string> k;
    MAESTRO_TRY(read(n, "pod_kills_per_hour", c.chaos.pod_kills_per_hour, k));
    MAESTRO_TRY(read(n, "restart_seconds", c.chaos.restart_seconds, k));
    MAESTRO_TRY(read(n, "stress_per_hour", c.chaos.stress_per_hour, k));
    MAESTRO_TRY(read(n, "stress_seconds", c.chaos.stress_seconds, k));
    MAESTRO_TRY(read(n, "stress_capacity_loss", c.chaos.stress_capacity_loss, k));
    if (auto ok = refuse_unknown(n, k, "chaos"); !ok) return std::unexpected(ok.error());
  }
  return s;
}

}  // namespace

sim::ChaosModel chaos_preset() {
  sim::ChaosModel chaos;
  chaos.pod_kills_per_hour = 6;
  chaos.restart_seconds = 15;
  chaos.stress_per_hour = 6;
  chaos.stress_seconds = 120;
  chaos.stress_capacity_loss = 0.5;
  return chaos;
}

std::vector<std::string> synthetic_scenario_names() {
  return {"steady", "diurnal", "ramp", "flash-crowd", "noise"};
}

std::vector<std::string> builtin_scenario_names() {
  auto names = synthetic_scenario_names();
  for (const auto* trace :
       {"nasa", "nasa-validation", "worldcup", "worldcup-validation", "nasa-train", "worldcup-train"})
    names.push_back(trace);
  return names;
}

Result<Scenario> validate(const Scenario& scenario) {
  if (scenario.duration_seconds < 15 || scenario.duration_seconds > 30 * 86400)
    return fail("scenario {}: duration ({} s) must be within [15 s, 30 days]", scenario.name,
                scenario.duration_seconds);
  if (auto ok = traffic::validate(scenario.traffic, scenario.duration_seconds); !ok)
    return fail("scenario {}: {}", scenario.name, ok.error().message);
  if (auto ok = sim::validate(scenario.cluster); !ok)
    return fail("scenario {}: {}", scenario.name, ok.error().message);
  return scenario;
}

Result<Scenario> resolve_scenario(const std::string& spec, const ScenarioOverrides& overrides,
                                  const fs::path& shared_dir) {
  Result<Scenario> scenario = fail("no scenario");
  const auto names = builtin_scenario_names();
  if (std::find(names.begin(), names.end(), spec) != names.end()) {
    scenario = builtin(spec, shared_dir);
  } else if (!fs::exists(spec)) {
    return fail("scenario '{}' is neither a built-in ({}) nor an existing file", spec,
                fmt::join(names, ", "));
  } else if (spec.ends_with(".yaml") || spec.ends_with(".yml")) {
    scenario = from_yaml(spec, shared_dir);
  } else {
    scenario = from_trace_file(spec);
  }
  if (!scenario) return scenario;
  if (overrides.speedup)
    if (auto ok = refuse_speedup(*overrides.speedup); !ok) return fail("--speedup: {}", ok.error().message);
  if (overrides.peak_rps) scenario->traffic.peak_rps = *overrides.peak_rps;
  if (overrides.startup_seconds) scenario->cluster.startup.median_seconds = *overrides.startup_seconds;
  if (overrides.chaos) scenario->cluster.chaos = *overrides.chaos ? chaos_preset() : sim::ChaosModel{};
  if (overrides.duration_seconds && *overrides.duration_seconds != scenario->duration_seconds) {
    scenario->description += fmt::format(" — run for {} s only (--duration)", *overrides.duration_seconds);
    scenario->duration_seconds = *overrides.duration_seconds;
  }
  return validate(*scenario);
}

Result<fs::path> locate_shared_dir(const std::string& explicit_dir, const char* env_value,
                                   const fs::path& executable) {
  std::vector<fs::path> candidates;
  if (!explicit_dir.empty()) {
    candidates = {explicit_dir};
  } else {
    if (env_value && *env_value) candidates.emplace_back(env_value);
    candidates.push_back(executable.parent_path() / ".." / ".." / "shared");
    candidates.push_back(fs::path("..") / "shared");
  }
  for (const auto& dir : candidates) {
    std::error_code error;
    if (fs::is_directory(dir / "traces", error)) return dir.lexically_normal();
  }
  if (explicit_dir.empty()) return fs::path();
  return fail("{} has no traces/ folder", explicit_dir);
}

int initial_replicas_for(const Scenario& scenario, std::span<const double> arrivals) {
  if (scenario.initial_replicas) return *scenario.initial_replicas;
  const auto first_minute = arrivals.first(std::min<std::size_t>(arrivals.size(), 60));
  const double busiest =
      first_minute.empty() ? 0 : *std::max_element(first_minute.begin(), first_minute.end());
  return core::clamp_replicas(pods_needed(scenario.cluster, busiest), scenario.cluster.bounds);
}

std::vector<double> scenario_arrivals(const Scenario& scenario, std::uint64_t seed) {
  std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ULL + 1);
  return traffic::sample_arrivals(traffic::render_rates(scenario.traffic, scenario.duration_seconds, rng),
                                  rng);
}

}  // namespace maestro::eval
