#include "local/local_config.hpp"

#include <fstream>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "base/yaml_fields.hpp"

namespace maestro::local {

namespace {

using base::only_keys;
using base::read;

Result<void> read_ms(const YAML::Node& node, const char* key, const std::string& where,
                     std::chrono::milliseconds& out) {
  double seconds = static_cast<double>(out.count()) / 1000;
  if (auto done = read(node, key, where, seconds); !done) return done;
  if (seconds < 0) return fail("{}.{}: must not be negative", where, key);
  out = std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
  return {};
}

Result<LocalDeploymentConfig> parse_deployment(const YAML::Node& node, const std::string& where) {
  LocalDeploymentConfig d;
  MAESTRO_TRY(only_keys(node, where,
                        {"namespace", "name", "replicas", "listen", "command", "startup_delay_seconds",
                         "readiness_path", "readiness_period_seconds", "readiness_failures",
                         "termination_grace_seconds", "cpu", "memory_mb", "labels", "annotations"}));
  MAESTRO_TRY(read(node, "namespace", where, d.namespace_));
  MAESTRO_TRY(read(node, "name", where, d.name));
  MAESTRO_TRY(read(node, "replicas", where, d.replicas));
  MAESTRO_TRY(read(node, "listen", where, d.listen));
  MAESTRO_TRY(read(node, "command", where, d.command));
  MAESTRO_TRY(read_ms(node, "startup_delay_seconds", where, d.startup_delay));
  MAESTRO_TRY(read(node, "readiness_path", where, d.readiness_path));
  MAESTRO_TRY(read_ms(node, "readiness_period_seconds", where, d.readiness_period));
  MAESTRO_TRY(read(node, "readiness_failures", where, d.readiness_failures));
  MAESTRO_TRY(read_ms(node, "termination_grace_seconds", where, d.termination_grace));
  MAESTRO_TRY(read(node, "cpu", where, d.limits.cpu_cores));
  double memory_mb = static_cast<double>(d.limits.memory_bytes) / (1 << 20);
  MAESTRO_TRY(read(node, "memory_mb", where, memory_mb));
  d.limits.memory_bytes = static_cast<std::uint64_t>(memory_mb * (1 << 20));
  MAESTRO_TRY(read(node, "labels", where, d.labels));
  MAESTRO_TRY(read(node, "annotations", where, d.annotations));
  if (d.replicas < 0) return fail("{}.replicas: must not be negative", where);
  if (d.limits.cpu_cores < 0) return fail("{}.cpu: must not be negative", where);
  if (d.readiness_period.count() <= 0) return fail("{}.readiness_period_seconds: must be positive", where);
  if (d.readiness_failures < 1) return fail("{}.readiness_failures: must be at least 1", where);
  if (d.readiness_path.empty() || d.readiness_path.front() != '/')
    return fail("{}.readiness_path: must start with /", where);
  return d;
}

}  // namespace

Result<LocalConfig> parse_local_config(const std::string& yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& error) {
    return fail("local config: {}", error.what());
  }
  LocalConfig config;
  if (!root || root.IsNull()) return config;
  MAESTRO_TRY(
      only_keys(root, "local config",
                {"state_dir", "api_listen", "metrics_listen", "prometheus_binary", "prometheus_listen",
                 "scrape_interval_seconds", "use_cgroups", "seed", "deployments", "chaos"}));
  std::string state_dir = config.state_dir.string();
  MAESTRO_TRY(read(root, "state_dir", "local config", state_dir));
  config.state_dir = state_dir;
  MAESTRO_TRY(read(root, "api_listen", "local config", config.api_listen));
  MAESTRO_TRY(read(root, "metrics_listen", "local config", config.metrics_listen));
  MAESTRO_TRY(read(root, "prometheus_binary", "local config", config.prometheus_binary));
  MAESTRO_TRY(read(root, "prometheus_listen", "local config", config.prometheus_listen));
  long long scrape_seconds = config.scrape_interval.count();
  MAESTRO_TRY(read(root, "scrape_interval_seconds", "local config", scrape_seconds));
  if (scrape_seconds < 1) return fail("local config: scrape_interval_seconds must be at least 1");
  config.scrape_interval = std::chrono::seconds(scrape_seconds);
  MAESTRO_TRY(read(root, "use_cgroups", "local config", config.use_cgroups));
  MAESTRO_TRY(read(root, "seed", "local config", config.seed));
  if (const YAML::Node deployments = root["deployments"]) {
    if (!deployments.IsSequence()) return fail("local config: deployments must be a list");
    config.deployments.clear();
    std::set<std::pair<std::string, std::string>> names;
    for (std::size_t i = 0; i < deployments.size(); ++i) {
      auto deployment = parse_deployment(deployments[i], fmt::format("deployments[{}]", i));
      if (!deployment) return std::unexpected(deployment.error());
      if (!names.insert({deployment->namespace_, deployment->name}).second)
        return fail("deployments[{}]: {}/{} is listed twice", i, deployment->namespace_, deployment->name);
      config.deployments.push_back(std::move(*deployment));
    }
  }
  if (const YAML::Node chaos = root["chaos"]) {
    if (!chaos.IsSequence()) return fail("local config: chaos must be a list");
    for (std::size_t i = 0; i < chaos.size(); ++i) {
      const std::string where = fmt::format("chaos[{}]", i);
      MAESTRO_TRY(only_keys(chaos[i], where, {"file", "per_hour"}));
      LocalChaosConfig entry;
      std::string file;
      MAESTRO_TRY(read(chaos[i], "file", where, file));
      MAESTRO_TRY(read(chaos[i], "per_hour", where, entry.per_hour));
      if (file.empty()) return fail("{}.file is required", where);
      if (!(entry.per_hour >= 0)) return fail("{}.per_hour: must not be negative", where);
      entry.file = file;
      config.chaos.push_back(std::move(entry));
    }
  }
  return config;
}

Result<LocalConfig> load_local_config(const std::filesystem::path& path) {
  std::ifstream file(path);
  if (!file) return fail("cannot read {}", path.string());
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  auto config = parse_local_config(text);
  if (config)
    for (auto& chaos : config->chaos)
      if (chaos.file.is_relative()) chaos.file = path.parent_path() / chaos.file;
  return config;
}

}  // namespace maestro::local
