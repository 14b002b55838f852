#include "eval/training.hpp"

#include "traffic/splits.hpp"

namespace maestro::eval {

Result<sim::EnvConfig> training_env_config(const std::string& scenario, const ScenarioOverrides& overrides,
                                           core::FeatureSet features,
                                           const std::filesystem::path& shared_dir) {
  const bool mix = scenario.empty() || scenario == "mix";
  std::vector<std::string> sources = {scenario};
  if (mix) sources = {"nasa", "worldcup", "diurnal", "flash-crowd", "ramp", "noise", "steady"};
  sim::EnvConfig config;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    ScenarioOverrides shape_overrides = overrides;
    shape_overrides.duration_seconds.reset();  // episodes have their own length
    auto resolved = resolve_scenario(sources[i], shape_overrides, shared_dir);
    if (!resolved) return std::unexpected(resolved.error());
    if (i == 0) config.cluster = resolved->cluster;
    auto shape = resolved->traffic;
    // Episodes replay only the training window of a trace with a split (the whole of any other trace).
    if (shape.kind == traffic::ShapeKind::kTrace) {
      const auto split = traffic::split_for(shape.trace->name);
      shape.window_start_seconds = split ? split->train.start_seconds : 0;
      shape.window_end_seconds = split ? split->train.end_seconds : 0;
    }
    config.traffic.shapes.push_back(std::move(shape));
  }
  config.features.set = features;
  config.features.memory_limit_bytes_per_pod = config.cluster.service.memory_limit_bytes;
  return sim::validate(config);
}

}  // namespace maestro::eval
