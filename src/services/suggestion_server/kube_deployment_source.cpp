#include "services/suggestion_server/kube_deployment_source.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "base/json_fields.hpp"
#include "kube/cpu_request.hpp"
#include "kube/custom_resources.hpp"
#include "services/suggestion_server/suggestion_server.hpp"

namespace maestro::suggestion_server {

namespace {

using nlohmann::json;

// Pods of the label selector's workload in `ns`: how many are ready, their names as one regex, and what the
// first of them requests of CPU (a workload's pods share one template).
struct SelectedPods {
  int ready = 0;
  std::string regex;
  std::optional<std::int64_t> cpu_request_m;
};

std::optional<double> cores(std::optional<std::int64_t> millicores) {
  if (!millicores || *millicores <= 0) return std::nullopt;
  return static_cast<double>(*millicores) / 1000.0;
}

Result<SelectedPods> selected_pods(kube::KubeClient& client, const std::string& ns,
                                   const std::string& selector) {
  const std::string what = fmt::format("list pods of {} in {}", selector, ns);
  auto response = client.http().get(fmt::format("/api/v1/namespaces/{}/pods?labelSelector={}",
                                                net::url_encode(ns), net::url_encode(selector)));
  if (!response) return fail("{}: {}", what, kube::transport_error(response.error(), what).message);
  if (response->status != 200) return fail("{}", kube::error_from_response(*response, what).message);
  const json list = json::parse(response->body, nullptr, false);
  if (!list.is_object() || !list.contains("items") || !list["items"].is_array())
    return fail("{}: malformed response: not a PodList", what);
  SelectedPods pods;
  std::vector<std::string> names;
  for (const auto& pod : list["items"]) {
    const std::string name = pod.value(json::json_pointer("/metadata/name"), "");
    if (name.empty()) continue;
    if (names.empty()) pods.cpu_request_m = kube::pod_cpu_request_m(base::json_object(pod, "spec"));
    names.push_back(name);
    for (const auto& condition : pod.value(json::json_pointer("/status/conditions"), json::array()))
      if (condition.is_object() && condition.value("type", "") == "Ready" &&
          condition.value("status", "") == "True")
        ++pods.ready;
  }
  pods.regex = prom::pod_names_regex(names);
  return pods;
}

}  // namespace

Result<DeploymentInfo> KubeDeploymentSource::get(const std::string& namespace_name, const std::string& name) {
  auto deployment = client_.get_deployment(namespace_name, name);
  if (!deployment)
    return fail("get deployment {}/{}: {} ({})", namespace_name, name, deployment.error().message,
                kube::kube_error_kind_name(deployment.error().kind));
  return DeploymentInfo{.replicas = deployment->replicas,
                        .ready_replicas = deployment->ready_replicas,
                        .annotations = deployment->annotations,
                        .cpu_request_cores = cores(deployment->cpu_request_m)};
}

Result<DeploymentInfo> KubeDeploymentSource::get_autoscaled(const std::string& ns, const std::string& target,
                                                            const std::string& autoscaler) {
  const std::string what = fmt::format("MaestroAutoscaler {}/{}", ns, autoscaler);
  auto object = kube::get_object(client_, kube::kMaestroAutoscalers, ns, autoscaler);
  if (!object)
    return fail("get {}: {} ({})", what, object.error().message,
                kube::kube_error_kind_name(object.error().kind));
  const json& spec = base::json_object(*object, "spec");
  const json& ref = base::json_object(spec, "scaleTargetRef");
  if (base::json_string(ref, "name") != target) return fail("{} does not target '{}'", what, target);
  const std::string kind = base::json_string(ref, "kind"),
                    api_version = base::json_string(ref, "apiVersion", "apps/v1");
  // Only what the resource's author wrote is queried: the request names the resource, never a query.
  std::optional<prom::QueryTemplates> queries;
  const json::json_pointer queries_at("/metrics/queries");
  if (spec.contains(queries_at)) {
    auto parsed = prom::templates_from_json(spec[queries_at], "spec.metrics.queries");
    if (!parsed) return fail("{}: {}", what, parsed.error().message);
    queries = std::move(*parsed);
  }

  DeploymentInfo info;
  if (kind == "Deployment" && api_version == "apps/v1") {
    auto deployment = get(ns, target);
    if (!deployment) return deployment;
    info = std::move(*deployment);
  } else {
    auto type = kube::scalable_resource(client_, api_version, kind);
    if (!type) return fail("{}: {}", what, type.error().message);
    auto scale = kube::get_workload_scale(client_, *type, ns, target);
    if (!scale) return fail("{}: {}", what, scale.error().message);
    if (scale->selector.empty())
      return fail("{}: the scale of {} {}/{} has no status.selector", what, kind, ns, target);
    auto pods = selected_pods(client_, ns, scale->selector);
    if (!pods) return fail("{}: {}", what, pods.error().message);
    info.replicas = scale->replicas;
    info.ready_replicas = pods->ready;
    info.pods = pods->regex;
    info.cpu_request_cores = cores(pods->cpu_request_m);
  }
  // The resource's queries win field by field over the target's annotations.
  if (queries) {
    prom::QueryTemplates merged =
        templates_from_annotations(info.annotations).value_or(prom::QueryTemplates{});
    for (auto [mine, theirs] :
         {std::pair{&merged.cpu_usage, &queries->cpu_usage},
          std::pair{&merged.memory_usage, &queries->memory_usage},
          std::pair{&merged.latency, &queries->latency}, std::pair{&merged.rps, &queries->rps},
          std::pair{&merged.pods_reporting, &queries->pods_reporting}})
      if (!theirs->empty()) *mine = *theirs;
    info.templates = std::move(merged);
  }
  // The resource's SLO wins over the target's annotations (the CRD asks for both bounds or neither).
  const json& slo = base::json_object(spec, "slo");
  const auto soft = base::json_integer(slo, "latencySoftMilliseconds");
  const auto hard = base::json_integer(slo, "latencyHardMilliseconds");
  if (soft && hard) {
    info.annotations[kSoftConstraintAnnotation] = std::to_string(*soft);
    info.annotations[kHardConstraintAnnotation] = std::to_string(*hard);
  }
  return info;
}

}  // namespace maestro::suggestion_server
