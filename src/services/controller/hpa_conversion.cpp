#include "services/controller/hpa_conversion.hpp"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include <vector>

#include "services/controller/autoscaler.hpp"

namespace maestro::controller {

namespace {

// The averageUtilization of the HPA's cpu Resource metric, if it has one; the kinds of metric it has.
std::optional<int> cpu_target(const YAML::Node& spec, std::vector<std::string>& metric_kinds) {
  if (const YAML::Node v1 = spec["targetCPUUtilizationPercentage"]) return v1.as<int>();
  std::optional<int> target;
  for (const auto& metric : spec["metrics"]) {
    const std::string type = metric["type"].as<std::string>("");
    const YAML::Node resource = metric["resource"];
    if (type == "Resource" && resource && resource["name"].as<std::string>("") == "cpu" &&
        resource["target"]["averageUtilization"])
      target = resource["target"]["averageUtilization"].as<int>();
    else
      metric_kinds.push_back(
          type == "Resource" && resource ? "Resource " + resource["name"].as<std::string>("") : type);
  }
  return target;
}

}  // namespace

Result<std::string> maestro_autoscaler_from_hpa(const std::string& hpa_yaml, const HpaConversion& options) {
  YAML::Node loaded;
  try {
    loaded = YAML::Load(hpa_yaml);
  } catch (const YAML::Exception& error) {
    return fail("not YAML: {}", error.what());
  }
  const YAML::Node& hpa = loaded;  // const: reading a missing key must not add it
  try {
    if (!hpa.IsMap()) return fail("not an autoscaling/v2 or v1 HorizontalPodAutoscaler");
    const std::string api_version = hpa["apiVersion"].as<std::string>("");
    if (hpa["kind"].as<std::string>("") != "HorizontalPodAutoscaler" ||
        !api_version.starts_with("autoscaling/"))
      return fail("not an autoscaling/v2 or v1 HorizontalPodAutoscaler");
    const std::string name = hpa["metadata"]["name"].as<std::string>("");
    const YAML::Node spec = hpa["spec"];
    if (name.empty() || !spec || !spec["scaleTargetRef"] || !spec["maxReplicas"])
      return fail("HorizontalPodAutoscaler {}: needs metadata.name, spec.scaleTargetRef and spec.maxReplicas",
                  name);

    YAML::Node out;
    out["apiVersion"] = kAutoscalerApiVersion;
    out["kind"] = kAutoscalerKind;
    out["metadata"]["name"] = name;
    if (hpa["metadata"]["namespace"]) out["metadata"]["namespace"] = hpa["metadata"]["namespace"];
    YAML::Node target;
    for (const char* key : {"apiVersion", "kind", "name"})
      if (spec["scaleTargetRef"][key]) target[key] = spec["scaleTargetRef"][key];
    out["spec"]["scaleTargetRef"] = target;
    out["spec"]["minReplicas"] = spec["minReplicas"] ? spec["minReplicas"].as<int>() : 1;
    out["spec"]["maxReplicas"] = spec["maxReplicas"].as<int>();
    if (spec["behavior"]) out["spec"]["behavior"] = spec["behavior"];

    std::vector<std::string> other_metrics;
    const auto cpu = cpu_target(spec, other_metrics);
    if (!options.learned_policy.empty()) {
      out["spec"]["policy"]["type"] = "Learned";
      out["spec"]["policy"]["learned"]["name"] = options.learned_policy;
      if (options.latency_soft_ms > 0 && options.latency_hard_ms > 0) {
        if (options.latency_soft_ms >= options.latency_hard_ms)
          return fail("the soft latency objective ({} ms) must be less than the hard one ({} ms)",
                      options.latency_soft_ms, options.latency_hard_ms);
        out["spec"]["slo"]["latencySoftMilliseconds"] = options.latency_soft_ms;
        out["spec"]["slo"]["latencyHardMilliseconds"] = options.latency_hard_ms;
      }
    } else if (cpu) {
      out["spec"]["policy"]["type"] = "HPA";
      out["spec"]["policy"]["hpa"]["targetCPUUtilizationPercentage"] = *cpu;
    } else {
      std::string kinds;
      for (const auto& kind : other_metrics) kinds += (kinds.empty() ? "" : ", ") + kind;
      return fail(
          "HorizontalPodAutoscaler {}: no CPU utilisation target to keep (its metrics: {}); name a learned "
          "policy instead",
          name, kinds.empty() ? "none" : kinds);
    }
    out["spec"]["dryRun"] = true;
    YAML::Emitter emitter;
    emitter << out;
    return fmt::format(
        "# Converted from HorizontalPodAutoscaler {} by `maestro hpa convert`; in dry-run until "
        "spec.dryRun is false.\n{}\n",
        name, emitter.c_str());
  } catch (const YAML::Exception& error) {
    return fail("HorizontalPodAutoscaler: {}", error.what());
  }
}

}  // namespace maestro::controller
