// `maestro hpa convert`'s conversion: an HPA's target, bounds, behavior and CPU target carried over into a
// MaestroAutoscaler in dry-run that the controller's own parser accepts; an HPA on other metrics refused
// unless a learned policy is named.
#include "services/controller/hpa_conversion.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include "services/controller/autoscaler.hpp"

namespace maestro::controller {
namespace {

const char* kHpa = R"(
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: shop
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 12
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 65}}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 120
      policies: [{type: Pods, value: 1, periodSeconds: 60}]
status: {currentReplicas: 3, desiredReplicas: 3}
)";

// YAML scalars as JSON: integers and booleans as such, the rest as strings.
nlohmann::json to_json(const YAML::Node& node) {
  if (node.IsMap()) {
    nlohmann::json object = nlohmann::json::object();
    for (const auto& entry : node) object[entry.first.as<std::string>()] = to_json(entry.second);
    return object;
  }
  if (node.IsSequence()) {
    nlohmann::json array = nlohmann::json::array();
    for (const auto& item : node) array.push_back(to_json(item));
    return array;
  }
  const std::string text = node.as<std::string>();
  if (text == "true" || text == "false") return text == "true";
  try {
    std::size_t used = 0;
    const long long number = std::stoll(text, &used);
    if (used == text.size()) return number;
  } catch (const std::exception&) {
  }
  return text;
}

Autoscaler converted(const std::string& hpa, const HpaConversion& options = {}) {
  auto yaml = maestro_autoscaler_from_hpa(hpa, options);
  if (!yaml) throw std::runtime_error(yaml.error().message);
  auto object = to_json(YAML::Load(*yaml));
  object["metadata"]["namespace"] = object["metadata"].value("namespace", "shop");
  auto parsed = parse_autoscaler(object);
  if (!parsed) throw std::runtime_error(parsed.error().message + "\n" + *yaml);
  return *parsed;
}

TEST(HpaConversion, KeepsTheHpasTargetBoundsBehaviorAndCpuTargetInDryRun) {
  const Autoscaler autoscaler = converted(kHpa);
  EXPECT_EQ(autoscaler.name, "web");
  EXPECT_EQ(autoscaler.target.name, "web");
  EXPECT_EQ(autoscaler.target.kind, "Deployment");
  EXPECT_EQ(autoscaler.bounds.min, 2);
  EXPECT_EQ(autoscaler.bounds.max, 12);
  EXPECT_EQ(autoscaler.policy, AutoscalerPolicy::kHpa);
  EXPECT_EQ(autoscaler.target_cpu_utilization, 65);
  ASSERT_TRUE(autoscaler.scale_down);
  EXPECT_EQ(autoscaler.scale_down->stabilization_window, std::chrono::seconds(120));
  EXPECT_TRUE(autoscaler.dry_run);
}

TEST(HpaConversion, ALearnedPolicyWithItsSlo) {
  const Autoscaler autoscaler = converted(kHpa, {"maestro-ppo", 200, 400});
  EXPECT_EQ(autoscaler.policy, AutoscalerPolicy::kLearned);
  EXPECT_EQ(autoscaler.learned_policy, "maestro-ppo");
  EXPECT_EQ(autoscaler.latency_soft_ms, 200);
  EXPECT_EQ(autoscaler.latency_hard_ms, 400);
}

TEST(HpaConversion, AnAutoscalingV1HpaAndItsDefaultMinimum) {
  const Autoscaler autoscaler = converted(R"(
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec: {scaleTargetRef: {kind: Deployment, name: api}, maxReplicas: 4, targetCPUUtilizationPercentage: 80}
)");
  EXPECT_EQ(autoscaler.bounds.min, 1);
  EXPECT_EQ(autoscaler.target_cpu_utilization, 80);
}

TEST(HpaConversion, RefusesWhatItCannotKeep) {
  std::string memory = kHpa;
  memory.replace(memory.find("name: cpu"), 9, "name: memory");
  auto refused = maestro_autoscaler_from_hpa(memory, {});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("its metrics: Resource memory"), std::string::npos)
      << refused.error().message;
  EXPECT_FALSE(maestro_autoscaler_from_hpa("kind: Deployment\napiVersion: apps/v1\n", {}));
  EXPECT_FALSE(maestro_autoscaler_from_hpa("{ not yaml", {}));
  EXPECT_FALSE(maestro_autoscaler_from_hpa(kHpa, {"maestro-ppo", 400, 200}));
}

}  // namespace
}  // namespace maestro::controller
