#include "services/controller/autoscaler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <limits>
#include <string_view>

#include "base/json_fields.hpp"
#include "prom/state_builder.hpp"

namespace maestro::controller {

namespace {

using nlohmann::json;

// Reads the fields of one JSON object, naming "spec.x.y" in its errors.
class Fields {
 public:
  Fields(const json& object, std::string where) : object_(object), where_(std::move(where)) {}

  Result<void> only(std::initializer_list<std::string_view> keys) const {
    for (const auto& [key, value] : object_.items())
      if (std::find(keys.begin(), keys.end(), key) == keys.end())
        return fail("{}: unknown field \"{}\"", where_, key);
    return {};
  }
  bool has(const char* key) const { return object_.contains(key) && !object_[key].is_null(); }
  std::string at(const char* key) const { return fmt::format("{}.{}", where_, key); }

  Result<std::optional<long long>> integer(const char* key, long long minimum, long long maximum) const {
    if (!has(key)) return std::optional<long long>{};
    const json& value = object_[key];
    if (!value.is_number_integer()) return fail("{}: must be an integer", at(key));
    const long long number = value.get<long long>();
    if (number < minimum || number > maximum)
      return fail("{}: must be between {} and {}, not {}", at(key), minimum, maximum, number);
    return std::optional<long long>{number};
  }
  Result<std::optional<std::string>> string(const char* key) const {
    if (!has(key)) return std::optional<std::string>{};
    if (!object_[key].is_string()) return fail("{}: must be a string", at(key));
    return std::optional<std::string>{object_[key].get<std::string>()};
  }
  Result<bool> boolean(const char* key) const {
    if (!has(key)) return false;
    if (!object_[key].is_boolean()) return fail("{}: must be true or false", at(key));
    return object_[key].get<bool>();
  }
  Result<std::optional<Fields>> object(const char* key) const {
    if (!has(key)) return std::optional<Fields>{};
    if (!object_[key].is_object()) return fail("{}: must be an object", at(key));
    return std::optional<Fields>{Fields(object_[key], at(key))};
  }
  const json& raw() const { return object_; }

 private:
  const json& object_;
  std::string where_;
};

#define MAESTRO_ASSIGN(name, expression)                         \
  auto name##_read = (expression);                               \
  if (!name##_read) return std::unexpected(name##_read.error()); \
  auto name = std::move(*name##_read)

constexpr long long kInt32Max = std::numeric_limits<std::int32_t>::max();

// `direction`'s rules with no policies get the HPA's default ones (as the API server defaults them): scale up
// by max(4 pods, 100%) per 15 s, down by 100% per 15 s.
Result<core::ScalingRules> parse_rules(const Fields& fields, bool scale_up) {
  if (auto ok = fields.only({"stabilizationWindowSeconds", "selectPolicy", "policies"}); !ok)
    return std::unexpected(ok.error());
  core::ScalingRules rules;
  MAESTRO_ASSIGN(window, fields.integer("stabilizationWindowSeconds", 0, 3600));
  if (window) rules.stabilization_window = std::chrono::seconds(*window);
  MAESTRO_ASSIGN(select, fields.string("selectPolicy"));
  if (select) {
    if (*select == "Max")
      rules.select = core::PolicySelect::kMax;
    else if (*select == "Min")
      rules.select = core::PolicySelect::kMin;
    else if (*select == "Disabled")
      rules.select = core::PolicySelect::kDisabled;
    else
      return fail("{}: must be Max, Min or Disabled, not \"{}\"", fields.at("selectPolicy"), *select);
  }
  if (fields.has("policies")) {
    const json& policies = fields.raw()["policies"];
    if (!policies.is_array()) return fail("{}: must be a list", fields.at("policies"));
    for (std::size_t i = 0; i < policies.size(); ++i) {
      const std::string where = fmt::format("{}[{}]", fields.at("policies"), i);
      if (!policies[i].is_object()) return fail("{}: must be an object", where);
      const Fields policy(policies[i], where);
      if (auto ok = policy.only({"type", "value", "periodSeconds"}); !ok) return std::unexpected(ok.error());
      MAESTRO_ASSIGN(type, policy.string("type"));
      MAESTRO_ASSIGN(value, policy.integer("value", 1, kInt32Max));
      MAESTRO_ASSIGN(period, policy.integer("periodSeconds", 1, 1800));
      if (!type || !value || !period) return fail("{}: type, value and periodSeconds are required", where);
      core::ScalingPolicy parsed;
      if (*type == "Pods")
        parsed.type = core::ScalingPolicyType::kPods;
      else if (*type == "Percent")
        parsed.type = core::ScalingPolicyType::kPercent;
      else
        return fail("{}: must be Pods or Percent, not \"{}\"", policy.at("type"), *type);
      parsed.value = static_cast<int>(*value);
      parsed.period = std::chrono::seconds(*period);
      rules.policies.push_back(parsed);
    }
  }
  if (rules.policies.empty()) {
    rules.policies.push_back({core::ScalingPolicyType::kPercent, 100, std::chrono::seconds(15)});
    if (scale_up) rules.policies.push_back({core::ScalingPolicyType::kPods, 4, std::chrono::seconds(15)});
  }
  return rules;
}

Result<void> parse_spec(const Fields& spec, Autoscaler& out) {
  if (auto ok = spec.only({"scaleTargetRef", "minReplicas", "maxReplicas", "intervalSeconds", "behavior",
                           "slo", "policy", "dryRun", "paused", "fallback", "metrics"});
      !ok)
    return ok;
  MAESTRO_ASSIGN(target, spec.object("scaleTargetRef"));
  if (!target) return fail("{}: required", spec.at("scaleTargetRef"));
  if (auto ok = target->only({"apiVersion", "kind", "name"}); !ok) return ok;
  MAESTRO_ASSIGN(api_version, target->string("apiVersion"));
  MAESTRO_ASSIGN(kind, target->string("kind"));
  MAESTRO_ASSIGN(name, target->string("name"));
  if (!kind || kind->empty() || !name || name->empty())
    return fail("{}: kind and name are required", spec.at("scaleTargetRef"));
  out.target = {api_version.value_or(""), *kind, *name};

  MAESTRO_ASSIGN(min, spec.integer("minReplicas", 1, kInt32Max));
  MAESTRO_ASSIGN(max, spec.integer("maxReplicas", 1, kInt32Max));
  if (!max) return fail("{}: required", spec.at("maxReplicas"));
  out.bounds = {static_cast<int>(min.value_or(1)), static_cast<int>(*max)};
  if (out.bounds.min > out.bounds.max)
    return fail("{} ({}) must not be greater than {} ({})", spec.at("minReplicas"), out.bounds.min,
                spec.at("maxReplicas"), out.bounds.max);
  MAESTRO_ASSIGN(interval, spec.integer("intervalSeconds", 1, 3600));
  if (interval) out.interval = std::chrono::seconds(*interval);

  MAESTRO_ASSIGN(behavior, spec.object("behavior"));
  if (behavior) {
    if (auto ok = behavior->only({"scaleUp", "scaleDown"}); !ok) return ok;
    for (auto [key, rules] : {std::pair{"scaleUp", &out.scale_up}, std::pair{"scaleDown", &out.scale_down}}) {
      MAESTRO_ASSIGN(fields, behavior->object(key));
      if (!fields) continue;
      MAESTRO_ASSIGN(parsed, parse_rules(*fields, rules == &out.scale_up));
      *rules = std::move(parsed);
    }
  }

  MAESTRO_ASSIGN(slo, spec.object("slo"));
  if (slo) {
    if (auto ok = slo->only({"latencySoftMilliseconds", "latencyHardMilliseconds"}); !ok) return ok;
    MAESTRO_ASSIGN(soft, slo->integer("latencySoftMilliseconds", 1, kInt32Max));
    MAESTRO_ASSIGN(hard, slo->integer("latencyHardMilliseconds", 1, kInt32Max));
    if (!soft || !hard)
      return fail("{}: latencySoftMilliseconds and latencyHardMilliseconds are required", spec.at("slo"));
    if (*soft >= *hard)
      return fail("{}: latencySoftMilliseconds ({}) must be less than latencyHardMilliseconds ({})",
                  spec.at("slo"), *soft, *hard);
    out.latency_soft_ms = static_cast<int>(*soft);
    out.latency_hard_ms = static_cast<int>(*hard);
  }

  MAESTRO_ASSIGN(policy, spec.object("policy"));
  if (!policy) return fail("{}: required (type Learned or HPA)", spec.at("policy"));
  if (auto ok = policy->only({"type", "learned", "hpa"}); !ok) return ok;
  MAESTRO_ASSIGN(type, policy->string("type"));
  if (type == "Learned") {
    out.policy = AutoscalerPolicy::kLearned;
    MAESTRO_ASSIGN(learned, policy->object("learned"));
    if (!learned) return fail("{}: a Learned policy needs learned.name", policy->at("learned"));
    if (auto ok = learned->only({"name"}); !ok) return ok;
    MAESTRO_ASSIGN(name_of_policy, learned->string("name"));
    if (!name_of_policy || name_of_policy->empty()) return fail("{}: required", learned->at("name"));
    out.learned_policy = *name_of_policy;
  } else if (type == "HPA") {
    out.policy = AutoscalerPolicy::kHpa;
    MAESTRO_ASSIGN(hpa, policy->object("hpa"));
    if (!hpa) return fail("{}: an HPA policy needs hpa.targetCPUUtilizationPercentage", policy->at("hpa"));
    if (auto ok = hpa->only({"targetCPUUtilizationPercentage"}); !ok) return ok;
    MAESTRO_ASSIGN(target_cpu, hpa->integer("targetCPUUtilizationPercentage", 1, 100));
    if (!target_cpu) return fail("{}: required", hpa->at("targetCPUUtilizationPercentage"));
    out.target_cpu_utilization = static_cast<int>(*target_cpu);
  } else {
    return fail("{}: must be Learned or HPA, not \"{}\"", policy->at("type"), type.value_or(""));
  }

  // The suggestion server reads spec.metrics itself; a bad query is refused here too, before it is asked.
  MAESTRO_ASSIGN(metrics, spec.object("metrics"));
  if (metrics) {
    if (auto ok = metrics->only({"queries"}); !ok) return ok;
    if (metrics->has("queries"))
      if (auto queries = prom::templates_from_json(metrics->raw()["queries"], metrics->at("queries"));
          !queries)
        return std::unexpected(queries.error());
  }

  MAESTRO_ASSIGN(dry_run, spec.boolean("dryRun"));
  MAESTRO_ASSIGN(paused, spec.boolean("paused"));
  out.dry_run = dry_run;
  out.paused = paused;

  MAESTRO_ASSIGN(fallback, spec.object("fallback"));
  if (fallback) {
    if (auto ok = fallback->only({"failureThreshold", "replicas"}); !ok) return ok;
    MAESTRO_ASSIGN(threshold, fallback->integer("failureThreshold", 1, kInt32Max));
    MAESTRO_ASSIGN(replicas, fallback->integer("replicas", 1, kInt32Max));
    if (!threshold) return fail("{}: required", fallback->at("failureThreshold"));
    if (replicas && (*replicas < out.bounds.min || *replicas > out.bounds.max))
      return fail("{} ({}) must be within [minReplicas, maxReplicas] = [{}, {}]", fallback->at("replicas"),
                  *replicas, out.bounds.min, out.bounds.max);
    out.fallback =
        AutoscalerFallback{static_cast<int>(*threshold),
                           replicas ? std::optional<int>(static_cast<int>(*replicas)) : std::nullopt};
  }
  return {};
}

#undef MAESTRO_ASSIGN

std::string string_or_empty(const json& object, const char* key) {
  return object.is_object() && object.contains(key) && object[key].is_string()
             ? object[key].get<std::string>()
             : "";
}

std::optional<int> int_or_none(const json& object, const char* key) {
  if (!object.contains(key) || !object[key].is_number_integer()) return std::nullopt;
  return object[key].get<int>();
}

}  // namespace

Result<Autoscaler> parse_autoscaler(const json& object) {
  if (!object.is_object()) return fail("MaestroAutoscaler: not an object");
  const json& metadata = base::json_object(object, "metadata");
  Autoscaler autoscaler;
  autoscaler.namespace_ = string_or_empty(metadata, "namespace");
  autoscaler.name = string_or_empty(metadata, "name");
  autoscaler.uid = string_or_empty(metadata, "uid");
  if (metadata.contains("generation") && metadata["generation"].is_number_integer())
    autoscaler.generation = metadata["generation"].get<std::int64_t>();
  const std::string what = fmt::format("{} {}/{}", kAutoscalerKind, autoscaler.namespace_, autoscaler.name);
  if (autoscaler.name.empty() || autoscaler.namespace_.empty())
    return fail("{}: no metadata.name or namespace", what);
  if (base::json_string(object, "apiVersion") != kAutoscalerApiVersion ||
      base::json_string(object, "kind") != kAutoscalerKind)
    return fail("{}: not a {} {}", what, kAutoscalerApiVersion, kAutoscalerKind);
  if (!object.contains("spec") || !object["spec"].is_object()) return fail("{}: spec: required", what);
  if (auto parsed = parse_spec(Fields(object["spec"], "spec"), autoscaler); !parsed)
    return fail("{}: {}", what, parsed.error().message);
  return autoscaler;
}

std::string target_key(const Autoscaler& autoscaler) {
  return autoscaler.namespace_ + "/" + autoscaler.target.name;
}

DeploymentSettings settings_for(const DeploymentSettings& defaults, const Autoscaler& autoscaler) {
  DeploymentSettings settings = defaults;
  settings.bounds = autoscaler.bounds;
  settings.interval = autoscaler.interval;
  settings.dry_run = defaults.dry_run || autoscaler.dry_run;  // the operator's dry-run covers every target
  settings.scale_up = autoscaler.scale_up;
  settings.scale_down = autoscaler.scale_down;
  settings.source =
      autoscaler.policy == AutoscalerPolicy::kHpa ? DecisionSource::kHpa : DecisionSource::kLearned;
  if (autoscaler.policy == AutoscalerPolicy::kHpa) {
    settings.hpa.target_utilization_percent = autoscaler.target_cpu_utilization;
    if (autoscaler.scale_down)
      settings.hpa.downscale_stabilization = autoscaler.scale_down->stabilization_window;
  }
  return settings;
}

AutoscalerStatus AutoscalerStatus::from_json(const json& status) {
  AutoscalerStatus out;
  if (!status.is_object()) return out;
  if (status.contains("observedGeneration") && status["observedGeneration"].is_number_integer())
    out.observed_generation = status["observedGeneration"].get<std::int64_t>();
  out.current_replicas = int_or_none(status, "currentReplicas");
  out.desired_replicas = int_or_none(status, "desiredReplicas");
  out.last_scale_time = string_or_empty(status, "lastScaleTime");
  out.consecutive_failures = int_or_none(status, "consecutiveFailures").value_or(0);
  if (status.contains("lastDecision") && status["lastDecision"].is_object()) {
    const json& decision = status["lastDecision"];
    out.last_decision =
        AutoscalerDecision{string_or_empty(decision, "time"), string_or_empty(decision, "action"),
                           string_or_empty(decision, "result"), string_or_empty(decision, "reason"),
                           string_or_empty(decision, "message")};
  }
  if (status.contains("conditions") && status["conditions"].is_array())
    for (const auto& condition : status["conditions"])
      if (condition.is_object() && !string_or_empty(condition, "type").empty())
        out.conditions.push_back({string_or_empty(condition, "type"), string_or_empty(condition, "status"),
                                  string_or_empty(condition, "reason"), string_or_empty(condition, "message"),
                                  string_or_empty(condition, "lastTransitionTime")});
  return out;
}

json AutoscalerStatus::to_json() const {
  json status = {{"observedGeneration", observed_generation}, {"consecutiveFailures", consecutive_failures}};
  if (current_replicas) status["currentReplicas"] = *current_replicas;
  if (desired_replicas) status["desiredReplicas"] = *desired_replicas;
  if (!last_scale_time.empty()) status["lastScaleTime"] = last_scale_time;
  if (last_decision)
    status["lastDecision"] = {{"time", last_decision->time},
                              {"action", last_decision->action},
                              {"result", last_decision->result},
                              {"reason", last_decision->reason},
                              {"message", last_decision->message}};
  json conditions = json::array();
  for (const auto& condition : this->conditions)
    conditions.push_back({{"type", condition.type},
                          {"status", condition.status},
                          {"lastTransitionTime", condition.last_transition_time},
                          {"reason", condition.reason},
                          {"message", condition.message}});
  status["conditions"] = std::move(conditions);
  return status;
}

void AutoscalerStatus::set_condition(const std::string& type, const std::string& status,
                                     const std::string& reason, const std::string& message,
                                     const std::string& now) {
  auto it = std::ranges::find_if(conditions, [&](const AutoscalerCondition& c) { return c.type == type; });
  if (it == conditions.end()) {
    conditions.push_back({type, status, reason, message, now});
    return;
  }
  if (it->status != status) it->last_transition_time = now;
  it->status = status;
  it->reason = reason;
  it->message = message;
}

const AutoscalerCondition* AutoscalerStatus::condition(const std::string& type) const {
  const auto it =
      std::ranges::find_if(conditions, [&](const AutoscalerCondition& c) { return c.type == type; });
  return it == conditions.end() ? nullptr : &*it;
}

}  // namespace maestro::controller
