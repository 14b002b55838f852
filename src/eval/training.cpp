#include "eval/training.hpp"

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
    config.traffic.shapes.push_back(resolved->traffic);
  }
  config.features.set = features;
  config.features.memory_limit_bytes_per_pod = config.cluster.service.memory_limit_bytes;
  return sim::validate(config);
}

}  // namespace maestro::eval
