#include "services/controller/autoscaler_client.hpp"

#include <fmt/format.h>

#include "base/json_fields.hpp"
#include "kube/custom_resources.hpp"

namespace maestro::controller {

using nlohmann::json;

kube::KubeResult<std::vector<json>> KubeAutoscalerClient::list_autoscalers(const std::string& ns) {
  auto listed = kube::list_objects(kube_, kube::kMaestroAutoscalers, ns);
  if (!listed) {
    if (listed.error().kind == kube::KubeErrorKind::kNotFound) return std::vector<json>{};
    return std::unexpected(listed.error());
  }
  return std::move(listed->items);
}

kube::KubeResult<std::map<std::string, std::string>> KubeAutoscalerClient::other_autoscalers(
    const std::string& ns) {
  std::map<std::string, std::string> targeted;
  // An HPA names its target in spec.scaleTargetRef; a ScaledObject in spec.scaleTargetRef too, with the kind
  // defaulting to Deployment.
  for (const auto* type : {&kube::kHorizontalPodAutoscalers, &kube::kScaledObjects}) {
    auto listed = kube::list_objects(kube_, *type, ns);
    if (!listed) {
      if (listed.error().kind == kube::KubeErrorKind::kNotFound) continue;
      return std::unexpected(listed.error());
    }
    const std::string kind = type == &kube::kScaledObjects ? "ScaledObject" : "HorizontalPodAutoscaler";
    for (const auto& object : listed->items) {
      const json* target = base::json_field(base::json_object(object, "spec"), "scaleTargetRef");
      if (target == nullptr || !target->is_object()) continue;
      const json& metadata = base::json_object(object, "metadata");
      const std::string object_ns = base::json_string(metadata, "namespace");
      targeted[fmt::format("{}/{}/{}", object_ns, base::json_string(*target, "kind", "Deployment"),
                           base::json_string(*target, "name"))] =
          fmt::format("{} {}/{}", kind, object_ns, base::json_string(metadata, "name"));
    }
  }
  return targeted;
}

kube::KubeResult<void> KubeAutoscalerClient::write_status(const std::string& ns, const std::string& name,
                                                          const json& status, int conflict_retries) {
  for (int attempt = 0;; ++attempt) {
    auto current = kube::get_object(kube_, kube::kMaestroAutoscalers, ns, name);
    if (!current) return std::unexpected(current.error());
    auto written =
        kube::patch_status(kube_, kube::kMaestroAutoscalers, ns, name, status,
                           base::json_string(base::json_object(*current, "metadata"), "resourceVersion"));
    if (written) return {};
    if (written.error().kind != kube::KubeErrorKind::kConflict || attempt >= conflict_retries)
      return std::unexpected(written.error());
  }
}

}  // namespace maestro::controller
