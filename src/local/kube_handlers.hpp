// One handler per part of the local Kubernetes API, each a function of the store and one request:
// discovery (/version, /api, /apis, resource lists), deployments with their scale subresource, pods
// (read-only) and events.
// Lists and gets answer as a meta.k8s.io/v1 Table when the client asks for one (kubectl get does).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "local/kube_objects.hpp"
#include "local/kube_path.hpp"
#include "local/kube_status.hpp"

namespace maestro::local {

// Whether the path names a resource this API serves (the rest is answered 404 before any fault applies).
bool serves_resource(const KubePath& path);

KubeResponse handle_discovery(const KubePath& path);
// Deployments: get, list (labelSelector, limit/continue), patch; their scale: get, patch, put.
// Takes the store's lock itself.
KubeResponse handle_deployments(KubeStore& store, const KubeRequest& request, const KubePath& path);
// Pods, read-only: get, list (labelSelector).
KubeResponse handle_pods(KubeStore& store, const KubeRequest& request, const KubePath& path);
// Events: create, list (in a namespace or across all).
KubeResponse handle_events(KubeStore& store, const KubeRequest& request, const KubePath& path);
// MaestroAutoscalers, HorizontalPodAutoscalers and ScaledObjects, kept as sent (kube_custom_resources.cpp):
// get, list, create, update, merge-patch, delete, and their status subresource.
bool serves_custom_resource(const KubePath& path);
KubeResponse handle_custom_resources(KubeStore& store, const KubeRequest& request, const KubePath& path);
// Their API groups (for /apis) and a group version's resources (none: not one of theirs).
std::vector<nlohmann::json> custom_resource_groups();
std::optional<nlohmann::json> custom_resource_list(const KubePath& path);

// Server-side printing (the Table kubectl asks for with Accept: application/json;as=Table;...).
struct TableColumn {
  std::string name;
  std::string type;    // "string", "integer", "date"
  std::string format;  // "name" for the name column
  int priority = 0;    // > 0: only with -o wide
};
bool wants_table(const KubeRequest& request);
// rows: one {cells, object} per item; `objects` are the full items, rendered as includeObject asks.
nlohmann::json table(const std::vector<TableColumn>& columns, std::vector<std::vector<nlohmann::json>> cells,
                     const std::vector<nlohmann::json>& objects, const KubeRequest& request,
                     const std::string& resource_version);
// An age as kubectl prints it: "45s", "3m20s", "17m", "5h10m", "3d".
std::string human_age(std::chrono::system_clock::duration age);

}  // namespace maestro::local
