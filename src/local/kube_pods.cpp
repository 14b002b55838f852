// core/v1 Pods, read-only: the local cluster's processes as `kubectl get pods` shows them (get, list in a
// namespace or across all, labelSelector).
#include <fmt/format.h>

#include "local/kube_handlers.hpp"

namespace maestro::local {

using nlohmann::json;

namespace {

json pod_json(const KubeStore& store, const ObjectKey& key, const PodObject& pod) {
  json object = pod.to_json();
  object["metadata"]["resourceVersion"] = std::to_string(store.pod_versions.at(key));
  return object;
}

json pod_table(const KubeStore& store, const std::vector<const std::pair<const ObjectKey, PodObject>*>& items,
               const KubeRequest& request) {
  static const std::vector<TableColumn> columns = {{"Name", "string", "name", 0},
                                                   {"Ready", "string", "", 0},
                                                   {"Status", "string", "", 0},
                                                   {"Restarts", "string", "", 0},
                                                   {"Age", "string", "", 0},
                                                   {"IP", "string", "", 1},
                                                   {"Node", "string", "", 1},
                                                   {"Nominated Node", "string", "", 1},
                                                   {"Readiness Gates", "string", "", 1}};
  const auto now = std::chrono::system_clock::now();
  std::vector<std::vector<json>> cells;
  std::vector<json> objects;
  for (const auto* item : items) {
    const PodObject& pod = item->second;
    const std::string status = pod.terminating          ? "Terminating"
                               : pod.phase == "Running" ? "Running"
                                                        : "ContainerCreating";
    cells.push_back({pod.name, pod.ready ? "1/1" : "0/1", status, "0", human_age(now - pod.created),
                     "127.0.0.1", "localhost", "<none>", "<none>"});
    objects.push_back(pod_json(store, item->first, pod));
  }
  return table(columns, std::move(cells), objects, request, std::to_string(store.revision));
}

}  // namespace

KubeResponse handle_pods(KubeStore& store, const KubeRequest& request, const KubePath& path) {
  if (request.method != "GET") return method_not_allowed();
  std::lock_guard lock(store.mutex);
  if (!path.name.empty()) {
    const auto found = store.pods.find({path.namespace_, path.name});
    if (found == store.pods.end())
      return status_response(404, "NotFound", fmt::format("pods \"{}\" not found", path.name),
                             {{"name", path.name}, {"kind", "pods"}});
    if (wants_table(request)) return json_answer(200, pod_table(store, {&*found}, request));
    return json_answer(200, pod_json(store, found->first, found->second));
  }
  LabelSelector selector;
  const std::string selector_text = query_value(request.query, "labelSelector");
  if (!LabelSelector::parse(selector_text, selector))
    return status_response(400, "BadRequest",
                           fmt::format("unable to parse requirement: \"{}\"", selector_text));
  std::vector<const std::pair<const ObjectKey, PodObject>*> matching;
  for (const auto& entry : store.pods)
    if ((path.namespace_.empty() || entry.first.first == path.namespace_) &&
        selector.matches({{"app", entry.second.deployment}}))
      matching.push_back(&entry);
  if (wants_table(request)) return json_answer(200, pod_table(store, matching, request));
  json items = json::array();
  for (const auto* entry : matching) items.push_back(pod_json(store, entry->first, entry->second));
  return json_answer(200, {{"kind", "PodList"},
                           {"apiVersion", "v1"},
                           {"metadata", {{"resourceVersion", std::to_string(store.revision)}}},
                           {"items", items}});
}

}  // namespace maestro::local
