#include "services/controller/autoscaler_client.hpp"

#include <fmt/format.h>

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
      const json::json_pointer ref("/spec/scaleTargetRef");
      if (!object.contains(ref) || !object[ref].is_object()) continue;
      const json& target = object[ref];
      const std::string object_ns = object["metadata"].value("namespace", "");
      targeted[fmt::format("{}/{}/{}", object_ns, target.value("kind", "Deployment"),
                           target.value("name", ""))] =
          fmt::format("{} {}/{}", kind, object_ns, object["metadata"].value("name", ""));
    }
  }
  return targeted;
}

kube::KubeResult<void> KubeAutoscalerClient::write_status(const std::string& ns, const std::string& name,
                                                          const json& status, int conflict_retries) {
  for (int attempt = 0;; ++attempt) {
    auto current = kube::get_object(kube_, kube::kMaestroAutoscalers, ns, name);
    if (!current) return std::unexpected(current.error());
    auto written = kube::patch_status(kube_, kube::kMaestroAutoscalers, ns, name, status,
                                      (*current)["metadata"].value("resourceVersion", ""));
    if (written) return {};
    if (written.error().kind != kube::KubeErrorKind::kConflict || attempt >= conflict_retries)
      return std::unexpected(written.error());
  }
}

}  // namespace maestro::controller
