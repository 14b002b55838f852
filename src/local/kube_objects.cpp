#include "local/kube_objects.hpp"

#include <fmt/format.h>

#include <functional>

#include "kube/client.hpp"

namespace maestro::local {

using nlohmann::json;

FakeDeployment fake_deployment(std::string ns, std::string name, int replicas) {
  FakeDeployment deployment;
  deployment.namespace_ = std::move(ns);
  deployment.name = std::move(name);
  deployment.replicas = replicas;
  return deployment;
}

std::string workload_resource(const std::string& kind) {
  return kind == "StatefulSet" ? "statefulsets" : "deployments";
}

std::string kube_time(std::chrono::system_clock::time_point at) {
  return kube::rfc3339(at);
}

std::string KubeStore::new_uid(int kind_digit) {
  return fmt::format("00000000-0000-4000-{}000-{:012d}", kind_digit, next_uid++);
}

DeploymentStatus StoredDeployment::current_status() const {
  return status.value_or(DeploymentStatus{spec.replicas, spec.replicas, spec.replicas});
}

json StoredDeployment::to_json() const {
  const FakeDeployment& d = spec;
  const json match = {{"app", d.name}};
  json metadata = {{"name", d.name},
                   {"namespace", d.namespace_},
                   {"uid", uid},
                   {"resourceVersion", std::to_string(resource_version)},
                   {"generation", generation},
                   {"creationTimestamp", kube_time(created)}};
  if (!d.labels.empty()) metadata["labels"] = d.labels;
  if (!d.annotations.empty()) metadata["annotations"] = d.annotations;
  const DeploymentStatus now = current_status();
  // Zero counts are left out, as the API server's omitempty does.
  json status = {{"observedGeneration", generation}};
  if (now.replicas > 0) status["replicas"] = now.replicas;
  if (now.replicas > 0) status["updatedReplicas"] = now.replicas;
  if (now.ready_replicas > 0) status["readyReplicas"] = now.ready_replicas;
  if (now.available_replicas > 0) status["availableReplicas"] = now.available_replicas;
  if (now.replicas > now.available_replicas && d.kind == "Deployment")
    status["unavailableReplicas"] = now.replicas - now.available_replicas;
  json container = {{"name", d.name}, {"image", "example/" + d.name}};
  if (d.cpu_limit_cores > 0)
    container["resources"] = {
        {"limits", {{"cpu", fmt::format("{}m", static_cast<long long>(d.cpu_limit_cores * 1000))}}}};
  return {{"kind", d.kind},
          {"apiVersion", "apps/v1"},
          {"metadata", metadata},
          {"spec",
           {{"replicas", d.replicas},
            {"selector", {{"matchLabels", match}}},
            {"template",
             {{"metadata", {{"labels", match}}}, {"spec", {{"containers", json::array({container})}}}}}}},
          {"status", status}};
}

json StoredDeployment::scale_json() const {
  return {{"kind", "Scale"},
          {"apiVersion", "autoscaling/v1"},
          {"metadata",
           {{"name", spec.name},
            {"namespace", spec.namespace_},
            {"uid", uid},
            {"resourceVersion", std::to_string(resource_version)},
            {"creationTimestamp", kube_time(created)}}},
          {"spec", {{"replicas", spec.replicas}}},
          {"status", {{"replicas", current_status().replicas}, {"selector", "app=" + spec.name}}}};
}

json PodObject::to_json() const {
  json limits = json::object();
  if (cpu_limit_cores > 0) limits["cpu"] = fmt::format("{}m", static_cast<long long>(cpu_limit_cores * 1000));
  if (memory_limit_bytes > 0) limits["memory"] = std::to_string(memory_limit_bytes);
  const std::string started = kube_time(created);
  json metadata = {{"name", name},
                   {"namespace", namespace_},
                   {"uid", fmt::format("00000000-0000-4000-a000-{:012x}",
                                       std::hash<std::string>{}(name)&0xffffffffffffULL)},
                   {"labels", {{"app", deployment}}},
                   {"creationTimestamp", started},
                   {"ownerReferences", json::array({{{"apiVersion", "apps/v1"},
                                                     {"kind", "ReplicaSet"},
                                                     {"name", deployment},
                                                     {"controller", true}}})}};
  if (terminating) metadata["deletionTimestamp"] = kube_time(std::chrono::system_clock::now());
  json container_state = phase == "Running" ? json{{"running", {{"startedAt", started}}}}
                                            : json{{"waiting", {{"reason", "ContainerCreating"}}}};
  return {
      {"kind", "Pod"},
      {"apiVersion", "v1"},
      {"metadata", metadata},
      {"spec",
       {{"nodeName", "localhost"},
        {"containers", json::array({{{"name", deployment},
                                     {"image", "example/" + deployment},
                                     {"ports", json::array({{{"containerPort", port}, {"protocol", "TCP"}}})},
                                     {"resources", {{"limits", limits}}}}})}}},
      {"status",
       {{"phase", phase},
        {"podIP", "127.0.0.1"},
        {"hostIP", "127.0.0.1"},
        {"startTime", started},
        {"conditions", json::array({{{"type", "Ready"}, {"status", ready ? "True" : "False"}}})},
        {"containerStatuses", json::array({{{"name", deployment},
                                            {"ready", ready},
                                            {"restartCount", 0},
                                            {"image", "example/" + deployment},
                                            {"state", container_state}}})}}}};
}

}  // namespace maestro::local
