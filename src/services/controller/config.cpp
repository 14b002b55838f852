#include "services/controller/config.hpp"

#include "prom/credentials.hpp"

#include <yaml-cpp/yaml.h>

#include "base/yaml_fields.hpp"

#include "kube/config.hpp"

#include <charconv>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace maestro::controller {

namespace {

using base::only_keys;
using base::read;

Result<void> read_seconds(const YAML::Node& node, const char* key, const std::string& where,
                          std::chrono::seconds& out, bool allow_zero) {
  long long seconds = out.count();
  if (auto ok = read(node, key, where, seconds); !ok) return ok;
  if (seconds < 0 || (!allow_zero && seconds == 0))
    return fail("{}.{}: must be {} seconds", where, key, allow_zero ? "0 or more" : "more than 0");
  out = std::chrono::seconds(seconds);
  return {};
}

Result<void> read_settings(const YAML::Node& node, const std::string& where, DeploymentSettings& settings) {
  if (auto ok = read(node, "min_replicas", where, settings.bounds.min); !ok) return ok;
  if (auto ok = read(node, "max_replicas", where, settings.bounds.max); !ok) return ok;
  if (auto ok = read(node, "step", where, settings.step); !ok) return ok;
  if (auto ok = read_seconds(node, "interval_seconds", where, settings.interval, false); !ok) return ok;
  if (auto ok = read_seconds(node, "cooldown_seconds", where, settings.cooldown, true); !ok) return ok;
  if (auto ok = read(node, "dry_run", where, settings.dry_run); !ok) return ok;
  std::string policy(decision_source_name(settings.source));
  if (auto ok = read(node, "policy", where, policy); !ok) return ok;
  auto source = parse_decision_source(policy);
  if (!source) return fail("{}.policy: {}", where, source.error().message);
  settings.source = *source;
  if (auto ok = read(node, "hpa_target_utilization_percent", where, settings.hpa.target_utilization_percent);
      !ok)
    return ok;
  if (settings.hpa.target_utilization_percent < 1)
    return fail("{}.hpa_target_utilization_percent: must be at least 1", where);
  if (auto ok = read_seconds(node, "hpa_downscale_stabilization_seconds", where,
                             settings.hpa.downscale_stabilization, true);
      !ok)
    return ok;
  if (auto bounds = core::validate(settings.bounds); !bounds)
    return fail("{}: {}", where, bounds.error().message);
  if (settings.step < 1) return fail("{}.step: must be at least 1, not {}", where, settings.step);
  return {};
}

}  // namespace

Result<void> require_prometheus_for_hpa(const ControllerConfig& config) {
  if (!config.prometheus.url.empty()) return {};
  if (config.defaults.source == DecisionSource::kHpa)
    return fail(
        "config.prometheus.url: required: the default policy is hpa, which reads per-pod CPU from it");
  for (const auto& target : config.deployments)
    if (target.settings.source == DecisionSource::kHpa)
      return fail("config.prometheus.url: required: {}/{}'s policy is hpa, which reads per-pod CPU from it",
                  target.namespace_, target.name);
  return {};
}

Result<DecisionSource> parse_decision_source(std::string_view name) {
  if (name == "learned") return DecisionSource::kLearned;
  if (name == "hpa") return DecisionSource::kHpa;
  return fail("\"{}\" is not a policy (learned or hpa)", name);
}

std::string_view decision_source_name(DecisionSource source) {
  return source == DecisionSource::kHpa ? "hpa" : "learned";
}

Result<ControllerConfig> parse_controller_config(const std::string& yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& error) {
    return fail("controller configuration: {}", error.what());
  }
  if (!root.IsMap()) return fail("controller configuration: must be a mapping");
  ControllerConfig config;
  try {
    MAESTRO_TRY(
        only_keys(root, "config",
                  {"suggestion_server", "suggestion_timeout_ms", "suggestion_token_file", "listen", "workers",
                   "kubernetes", "prometheus", "defaults", "deployments", "discovery", "autoscalers"}));
    MAESTRO_TRY(read(root, "suggestion_server", "config", config.suggestion_server));
    if (config.suggestion_server.empty())
      return fail("config.suggestion_server: required (e.g. http://127.0.0.1:8081)");
    MAESTRO_TRY(prom::refuse_credentials_in_url(config.suggestion_server, "config.suggestion_server"));
    long long timeout_ms = config.suggestion_timeout.count();
    MAESTRO_TRY(read(root, "suggestion_timeout_ms", "config", timeout_ms));
    if (timeout_ms <= 0) return fail("config.suggestion_timeout_ms: must be more than 0");
    config.suggestion_timeout = std::chrono::milliseconds(timeout_ms);
    std::string suggestion_token_file;
    MAESTRO_TRY(read(root, "suggestion_token_file", "config", suggestion_token_file));
    config.suggestion_token_file = suggestion_token_file;
    MAESTRO_TRY(read(root, "listen", "config", config.listen));
    MAESTRO_TRY(read(root, "workers", "config", config.workers));
    if (config.workers < 1 || config.workers > 256) return fail("config.workers: must be between 1 and 256");

    if (const YAML::Node prometheus = root["prometheus"]) {
      MAESTRO_TRY(only_keys(prometheus, "config.prometheus", {"url", "timeout_ms", "rate_window_seconds"}));
      MAESTRO_TRY(read_seconds(prometheus, "rate_window_seconds", "config.prometheus",
                               config.prometheus.rate_window, false));
      MAESTRO_TRY(read(prometheus, "url", "config.prometheus", config.prometheus.url));
      MAESTRO_TRY(prom::refuse_credentials_in_url(config.prometheus.url, "config.prometheus.url"));
      long long prometheus_ms = config.prometheus.timeout.count();
      MAESTRO_TRY(read(prometheus, "timeout_ms", "config.prometheus", prometheus_ms));
      if (prometheus_ms <= 0) return fail("config.prometheus.timeout_ms: must be more than 0");
      config.prometheus.timeout = std::chrono::milliseconds(prometheus_ms);
    }

    const YAML::Node kube = root["kubernetes"];
    if (!kube) return fail("config.kubernetes: required (in_cluster, kubeconfig, or server with a token)");
    MAESTRO_TRY(only_keys(kube, "config.kubernetes",
                          {"in_cluster", "kubeconfig", "context", "server", "token", "token_file",
                           "timeout_ms", "conflict_retries"}));
    KubernetesSettings& k = config.kubernetes;
    std::string kubeconfig, token_file;
    MAESTRO_TRY(read(kube, "in_cluster", "config.kubernetes", k.in_cluster));
    MAESTRO_TRY(read(kube, "kubeconfig", "config.kubernetes", kubeconfig));
    MAESTRO_TRY(read(kube, "context", "config.kubernetes", k.context));
    MAESTRO_TRY(read(kube, "server", "config.kubernetes", k.server));
    MAESTRO_TRY(read(kube, "token", "config.kubernetes", k.token));
    MAESTRO_TRY(read(kube, "token_file", "config.kubernetes", token_file));
    k.kubeconfig = kubeconfig;
    k.token_file = token_file;
    const int sources = int{k.in_cluster} + int{!kubeconfig.empty()} + int{!k.server.empty()};
    if (sources != 1) return fail("config.kubernetes: give exactly one of in_cluster, kubeconfig or server");
    MAESTRO_TRY(prom::refuse_credentials_in_url(k.server, "config.kubernetes.server"));
    long long kube_timeout_ms = k.timeout.count();
    MAESTRO_TRY(read(kube, "timeout_ms", "config.kubernetes", kube_timeout_ms));
    if (kube_timeout_ms <= 0) return fail("config.kubernetes.timeout_ms: must be more than 0");
    k.timeout = std::chrono::milliseconds(kube_timeout_ms);
    MAESTRO_TRY(read(kube, "conflict_retries", "config.kubernetes", k.conflict_retries));
    if (k.conflict_retries < 0 || k.conflict_retries > 10)
      return fail("config.kubernetes.conflict_retries: must be between 0 and 10");

    static const std::initializer_list<std::string_view> kSettingKeys = {
        "min_replicas",
        "max_replicas",
        "step",
        "interval_seconds",
        "cooldown_seconds",
        "dry_run",
        "policy",
        "hpa_target_utilization_percent",
        "hpa_downscale_stabilization_seconds"};
    if (const YAML::Node defaults = root["defaults"]) {
      MAESTRO_TRY(only_keys(defaults, "config.defaults", kSettingKeys));
      MAESTRO_TRY(read_settings(defaults, "config.defaults", config.defaults));
    }

    if (const YAML::Node list = root["deployments"]) {
      if (!list.IsSequence()) return fail("config.deployments: must be a list");
      std::set<std::pair<std::string, std::string>> seen;
      for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string where = fmt::format("config.deployments[{}]", i);
        const YAML::Node entry = list[i];
        MAESTRO_TRY(only_keys(entry, where,
                              {"namespace", "name", "min_replicas", "max_replicas", "step",
                               "interval_seconds", "cooldown_seconds", "dry_run", "policy",
                               "hpa_target_utilization_percent", "hpa_downscale_stabilization_seconds"}));
        TargetConfig target;
        target.settings = config.defaults;
        MAESTRO_TRY(read(entry, "namespace", where, target.namespace_));
        MAESTRO_TRY(read(entry, "name", where, target.name));
        if (target.name.empty() || target.namespace_.empty())
          return fail("{}: name and namespace must not be empty", where);
        MAESTRO_TRY(read_settings(entry, where, target.settings));
        if (!seen.insert({target.namespace_, target.name}).second)
          return fail("{}: {}/{} is listed twice", where, target.namespace_, target.name);
        config.deployments.push_back(std::move(target));
      }
    }

    if (const YAML::Node discovery = root["discovery"]) {
      MAESTRO_TRY(only_keys(discovery, "config.discovery", {"enabled", "namespace", "refresh_seconds"}));
      config.discovery.enabled = true;
      MAESTRO_TRY(read(discovery, "enabled", "config.discovery", config.discovery.enabled));
      MAESTRO_TRY(read(discovery, "namespace", "config.discovery", config.discovery.namespace_));
      MAESTRO_TRY(
          read_seconds(discovery, "refresh_seconds", "config.discovery", config.discovery.refresh, false));
    }
    if (const YAML::Node autoscalers = root["autoscalers"]) {
      MAESTRO_TRY(
          only_keys(autoscalers, "config.autoscalers", {"enabled", "namespace", "refresh_seconds", "watch"}));
      config.autoscalers.enabled = true;
      MAESTRO_TRY(read(autoscalers, "enabled", "config.autoscalers", config.autoscalers.enabled));
      MAESTRO_TRY(read(autoscalers, "watch", "config.autoscalers", config.autoscalers.watch));
      MAESTRO_TRY(read(autoscalers, "namespace", "config.autoscalers", config.autoscalers.namespace_));
      MAESTRO_TRY(read_seconds(autoscalers, "refresh_seconds", "config.autoscalers",
                               config.autoscalers.refresh, false));
    }
    if (config.deployments.empty() && !config.discovery.enabled && !config.autoscalers.enabled)
      return fail("config: nothing to manage: list deployments, or enable discovery or autoscalers");
    if (auto ok = require_prometheus_for_hpa(config); !ok) return std::unexpected(ok.error());
  } catch (const YAML::Exception& error) {
    return fail("controller configuration: {}", error.what());
  }
  return config;
}

Result<ControllerConfig> load_controller_config(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return fail("cannot read controller configuration {}", path.string());
  std::ostringstream text;
  text << in.rdbuf();
  auto config = parse_controller_config(text.str());
  if (!config) return fail("{}: {}", path.string(), config.error().message);
  // Relative paths in the file are relative to it.
  const auto base = path.parent_path();
  auto& kube = config->kubernetes;
  if (!kube.kubeconfig.empty() && kube.kubeconfig.is_relative()) kube.kubeconfig = base / kube.kubeconfig;
  if (!kube.token_file.empty() && kube.token_file.is_relative()) kube.token_file = base / kube.token_file;
  return config;
}

Result<DeploymentSettings> settings_from_annotations(const DeploymentSettings& defaults,
                                                     const std::map<std::string, std::string>& annotations) {
  DeploymentSettings settings = defaults;
  for (const auto& [key, target] : {std::pair{kMinReplicasAnnotation, &settings.bounds.min},
                                    std::pair{kMaxReplicasAnnotation, &settings.bounds.max}}) {
    const auto it = annotations.find(key);
    if (it == annotations.end()) continue;
    const std::string& text = it->second;
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size())
      return fail("annotation {}: \"{}\" is not an integer", key, text);
    *target = value;
  }
  if (const auto policy = annotations.find(kPolicyAnnotation); policy != annotations.end()) {
    auto source = parse_decision_source(policy->second);
    if (!source) return fail("annotation {}: {}", kPolicyAnnotation, source.error().message);
    settings.source = *source;
  }
  if (const auto target = annotations.find(kHpaTargetAnnotation); target != annotations.end()) {
    const std::string& text = target->second;
    int percent = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), percent);
    if (error != std::errc() || end != text.data() + text.size() || percent < 1)
      return fail("annotation {}: \"{}\" is not a positive integer", kHpaTargetAnnotation, text);
    settings.hpa.target_utilization_percent = percent;
  }
  // A deployment's owner may narrow the operator's bounds, never widen them: the configured maximum caps
  // what a pod template's annotation can ask for.
  settings.bounds.max = std::min(settings.bounds.max, defaults.bounds.max);
  if (auto bounds = core::validate(settings.bounds); !bounds)
    return fail("annotations: {}", bounds.error().message);
  return settings;
}

Result<net::HttpClientOptions> kubernetes_http_options(const KubernetesSettings& settings,
                                                       const base::Clock& clock) {
  Result<kube::ClusterConfig> cluster = [&]() -> Result<kube::ClusterConfig> {
    if (settings.in_cluster) return kube::in_cluster_config();
    if (!settings.kubeconfig.empty()) return kube::load_kubeconfig(settings.kubeconfig, settings.context);
    kube::ClusterConfig plain;
    plain.server = settings.server;
    plain.token = settings.token;
    plain.token_file = settings.token_file;
    return plain;
  }();
  if (!cluster) return std::unexpected(cluster.error());
  auto options = kube::http_options(*cluster, clock);
  if (!options) return options;
  options->total_timeout = settings.timeout;
  options->connect_timeout = std::min(settings.timeout, options->connect_timeout);
  return options;
}

}  // namespace maestro::controller
