#include "eval/training.hpp"

namespace maestro::eval {

namespace {

std::vector<std::string> training_sources(const std::string& scenario) {
  if (scenario.empty() || scenario == "mix")
    return {"nasa", "worldcup", "diurnal", "flash-crowd", "ramp", "noise", "steady"};
  return {scenario};
}

// The built-in traces by their file's stem; a trace or scenario file by its own stem.
std::string trace_stem(const std::string& source) {
  if (source == "nasa") return "nasa-http-1995";
  if (source == "worldcup") return "worldcup98";
  const std::string name = std::filesystem::path(source).filename().string();
  return name.substr(0, name.find('.'));
}

}  // namespace

Result<sim::EnvConfig> training_env_config(const std::string& scenario, const ScenarioOverrides& overrides,
                                           core::FeatureSet features,
                                           const std::filesystem::path& shared_dir) {
  const auto sources = training_sources(scenario);
  sim::EnvConfig config;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    ScenarioOverrides shape_overrides = overrides;
    shape_overrides.duration_seconds.reset();  // episodes have their own length
    auto resolved = resolve_scenario(sources[i], shape_overrides, shared_dir);
    if (!resolved) return std::unexpected(resolved.error());
    if (i == 0) config.cluster = resolved->cluster;
    config.traffic.shapes.push_back(resolved->traffic);
  }
  config.features.set = features;
  config.features.memory_limit_bytes_per_pod = config.cluster.service.memory_limit_bytes;
  return sim::validate(config);
}

std::vector<nn::DataWindow> training_data(const std::string& scenario, const sim::EnvConfig& config) {
  const auto sources = training_sources(scenario);
  const double episode_seconds =
      static_cast<double>(config.control_interval_seconds) * (config.episode_steps + 1);
  std::vector<nn::DataWindow> windows;
  for (std::size_t i = 0; i < sources.size() && i < config.traffic.shapes.size(); ++i) {
    const auto& shape = config.traffic.shapes[i];
    if (shape.kind != traffic::ShapeKind::kTrace) {
      windows.push_back({"synthetic:" + sources[i], 0, episode_seconds});
    } else if (config.traffic.random_window) {
      windows.push_back({trace_stem(sources[i]), 0, shape.trace->duration_seconds()});
    } else {
      const double span = episode_seconds * shape.speedup * config.traffic.speedup_scale_max;
      windows.push_back({trace_stem(sources[i]), shape.window_start_seconds,
                         std::min(shape.trace->duration_seconds(), shape.window_start_seconds + span)});
    }
  }
  return windows;
}

}  // namespace maestro::eval
