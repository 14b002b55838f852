// Objects the local API keeps as the JSON clients send: MAESTRO's own MaestroAutoscalers
// (autoscaling.maestro.io/v1alpha1, with a status subresource), and the autoscalers it must not fight with —
// autoscaling/v2 HorizontalPodAutoscalers and KEDA's ScaledObjects (keda.sh/v1alpha1) — so that the
// controller's conflict check runs against real paths; and the coordination.k8s.io/v1 Leases the controller
// replicas elect a leader with. Get, list, create (POST), update (PUT), merge-patch,
// delete; /status reads and writes only .status. As the API server does for a resource with a status
// subresource: a write to the main resource ignores .status, a change of .spec bumps metadata.generation, a
// status write never does, and a write carrying a stale resourceVersion is refused 409 Conflict.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <expected>

#include <fmt/format.h>

#include "local/kube_handlers.hpp"

namespace maestro::local {

using nlohmann::json;

namespace {

struct CustomKind {
  std::string group;
  std::string version;
  std::string resource;  // plural
  std::string kind;
  bool status_subresource = false;
};

const std::vector<CustomKind>& custom_kinds() {
  static const std::vector<CustomKind> kinds = {
      {"autoscaling.maestro.io", "v1alpha1", "maestroautoscalers", "MaestroAutoscaler", true},
      {"autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true},
      {"keda.sh", "v1alpha1", "scaledobjects", "ScaledObject", true},
      // The controller replicas' leader election.
      {"coordination.k8s.io", "v1", "leases", "Lease", false},
  };
  return kinds;
}

const CustomKind* kind_of(const KubePath& path) {
  for (const auto& kind : custom_kinds())
    if (kind.group == path.group && kind.version == path.version && kind.resource == path.resource)
      return &kind;
  return nullptr;
}

std::string qualified(const CustomKind& kind) {
  return fmt::format("{}.{}", kind.resource, kind.group);
}

json details(const CustomKind& kind, const std::string& name) {
  return {{"name", name}, {"group", kind.group}, {"kind", kind.resource}};
}

KubeResponse not_found(const CustomKind& kind, const std::string& name) {
  return status_response(404, "NotFound", fmt::format("{} \"{}\" not found", qualified(kind), name),
                         details(kind, name));
}

KubeResponse conflict(const CustomKind& kind, const std::string& name) {
  return status_response(
      409, "Conflict",
      fmt::format("Operation cannot be fulfilled on {} \"{}\": the object has been modified; "
                  "please apply your changes to the latest version and try again",
                  qualified(kind), name),
      details(kind, name));
}

KubeResponse invalid(const CustomKind& kind, const std::string& name, const std::string& message) {
  return status_response(422, "Invalid",
                         fmt::format("{}.{} \"{}\" is invalid: {}", kind.kind, kind.group, name, message),
                         details(kind, name));
}

CustomObjectKey key_of(const CustomKind& kind, const std::string& ns, const std::string& name) {
  return {qualified(kind), ns, name};
}

// A cell of the printer column at `pointer`: null when the object has no such field (kubectl prints
// "<none>", as for a CRD's column whose jsonPath finds nothing).
json cell(const json& object, const char* pointer) {
  const json::json_pointer at(pointer);
  return object.contains(at) ? object[at] : json();
}

json condition_status(const json& object, const std::string& type) {
  const json::json_pointer at("/status/conditions");
  if (!object.contains(at) || !object[at].is_array()) return json();
  for (const auto& condition : object[at])
    if (condition.is_object() && condition.value("type", "") == type)
      return condition.value("status", json());
  return json();
}

// The CRD's additionalPrinterColumns (deploy/crd/maestroautoscalers.yaml) for MaestroAutoscalers, `kubectl
// get hpa`'s columns for HPAs, and name and age for the rest.
json custom_table(const CustomKind& kind, const std::vector<const json*>& items, const KubeRequest& request,
                  std::uint64_t revision) {
  const auto now = std::chrono::system_clock::now();
  const auto age = [&](const json& object) {
    std::tm parts{};
    const std::string created = object["metadata"].value("creationTimestamp", "");
    if (!strptime(created.c_str(), "%Y-%m-%dT%H:%M:%S", &parts)) return std::string("<unknown>");
    return human_age(now - std::chrono::system_clock::from_time_t(timegm(&parts)));
  };
  std::vector<TableColumn> columns = {{"Name", "string", "name", 0}};
  std::vector<std::vector<json>> cells;
  std::vector<json> objects;
  for (const json* object : items) {
    std::vector<json> row = {(*object)["metadata"].value("name", "")};
    if (kind.kind == "MaestroAutoscaler") {
      row.insert(row.end(),
                 {cell(*object, "/spec/scaleTargetRef/name"), cell(*object, "/spec/policy/type"),
                  cell(*object, "/spec/minReplicas"), cell(*object, "/spec/maxReplicas"),
                  cell(*object, "/status/currentReplicas"), condition_status(*object, "ScalingActive"),
                  cell(*object, "/status/lastDecision/reason")});
    } else if (kind.kind == "HorizontalPodAutoscaler") {
      const json target = object->value("spec", json::object()).value("scaleTargetRef", json::object());
      row.insert(row.end(), {fmt::format("{}/{}", target.value("kind", ""), target.value("name", "")),
                             "<unknown>", cell(*object, "/spec/minReplicas"),
                             cell(*object, "/spec/maxReplicas"), cell(*object, "/status/currentReplicas")});
    }
    row.push_back(age(*object));
    cells.push_back(std::move(row));
    objects.push_back(*object);
  }
  if (kind.kind == "MaestroAutoscaler") {
    columns.insert(columns.end(), {{"Reference", "string", "", 0},
                                   {"Policy", "string", "", 0},
                                   {"MinPods", "integer", "", 0},
                                   {"MaxPods", "integer", "", 0},
                                   {"Replicas", "integer", "", 0},
                                   {"Active", "string", "", 0},
                                   {"Last Decision", "string", "", 1}});
  } else if (kind.kind == "HorizontalPodAutoscaler") {
    columns.insert(columns.end(), {{"Reference", "string", "", 0},
                                   {"Targets", "string", "", 0},
                                   {"MinPods", "integer", "", 0},
                                   {"MaxPods", "integer", "", 0},
                                   {"Replicas", "integer", "", 0}});
  }
  columns.push_back({"Age", "date", "", 0});
  return table(columns, std::move(cells), objects, request, std::to_string(revision));
}

KubeResponse list(const KubeStore& store, const CustomKind& kind, const KubeRequest& request,
                  const KubePath& path) {
  LabelSelector selector;
  if (!LabelSelector::parse(query_value(request.query, "labelSelector"), selector))
    return status_response(400, "BadRequest", "unable to parse requirement: only equality-based selectors");
  std::vector<const json*> matching;
  const std::string prefix = qualified(kind);
  for (const auto& [key, object] : store.custom_objects) {
    if (std::get<0>(key) != prefix || (!path.namespace_.empty() && std::get<1>(key) != path.namespace_))
      continue;
    std::map<std::string, std::string> labels;
    const json::json_pointer at("/metadata/labels");
    if (object.contains(at) && object[at].is_object())
      for (const auto& [label, value] : object[at].items())
        if (value.is_string()) labels[label] = value.get<std::string>();
    if (selector.matches(labels)) matching.push_back(&object);
  }
  if (wants_table(request)) return json_answer(200, custom_table(kind, matching, request, store.revision));
  json items = json::array();
  for (const json* object : matching) items.push_back(*object);
  return json_answer(200, {{"kind", kind.kind + "List"},
                           {"apiVersion", path.group_version()},
                           {"metadata", {{"resourceVersion", std::to_string(store.revision)}}},
                           {"items", items}});
}

constexpr std::size_t kChangesKept = 1000;
constexpr int kLongestWatchSeconds = 30;  // the server may end a watch when it likes; this one does early

// Call with the lock held, right after the write that made `revision` current.
void record_change(KubeStore& store, const CustomObjectKey& key, const char* type, const json& object) {
  store.custom_changes.push_back({store.revision, key, type, object});
  if (store.custom_changes.size() > kChangesKept) {
    store.custom_changes_dropped_through = store.custom_changes.front().revision;
    store.custom_changes.pop_front();
  }
}

std::string watch_line(const std::string& type, const json& object) {
  return json{{"type", type}, {"object", object}}.dump() + "\n";
}

// GET …?watch=true: the changes of this kind (and namespace) after `resourceVersion` — or, without one,
// every object as ADDED and then the changes from now — as a stream of events, one per line. This server
// answers as soon as there is at least one, or after timeoutSeconds (at most 30 s) with none: a client must
// watch again from the last resourceVersion it saw, as it must whenever a real API server ends a watch.
// A resourceVersion older than the changes kept is answered as the API server does: 200 and an ERROR event
// carrying a 410 Expired Status.
KubeResponse watch(KubeStore& store, std::unique_lock<std::mutex>& lock, const CustomKind& kind,
                   const KubeRequest& request, const KubePath& path) {
  const std::string prefix = qualified(kind);
  const auto ours = [&](const CustomObjectKey& key) {
    return std::get<0>(key) == prefix && (path.namespace_.empty() || std::get<1>(key) == path.namespace_);
  };
  const std::string asked = query_value(request.query, "resourceVersion");
  std::uint64_t from = store.revision;
  KubeResponse response{200, ""};
  if (asked.empty() || asked == "0") {
    for (const auto& [key, object] : store.custom_objects)
      if (ours(key)) response.body += watch_line("ADDED", object);
  } else {
    char* end = nullptr;
    from = std::strtoull(asked.c_str(), &end, 10);
    if (end == asked.c_str() || *end != '\0')
      return status_response(400, "BadRequest", fmt::format("invalid resource version \"{}\"", asked));
    if (from < store.custom_changes_dropped_through) {
      response.body = watch_line("ERROR", {{"kind", "Status"},
                                           {"apiVersion", "v1"},
                                           {"metadata", json::object()},
                                           {"status", "Failure"},
                                           {"message", fmt::format("too old resource version: {} ({})", from,
                                                                   store.custom_changes_dropped_through + 1)},
                                           {"reason", "Expired"},
                                           {"code", 410}});
      return response;
    }
  }
  const std::string timeout_text = query_value(request.query, "timeoutSeconds");
  const int timeout = std::clamp(
      timeout_text.empty() ? kLongestWatchSeconds : std::atoi(timeout_text.c_str()), 0, kLongestWatchSeconds);
  const auto changed = [&] {
    for (const auto& change : store.custom_changes)
      if (change.revision > from && ours(change.key)) return true;
    return false;
  };
  if (response.body.empty())
    store.written.wait_for(lock, std::chrono::seconds(timeout), [&] { return store.stopping || changed(); });
  for (const auto& change : store.custom_changes)
    if (change.revision > from && ours(change.key)) response.body += watch_line(change.type, change.object);
  return response;
}

// Checks an object sent to create or update: JSON, of this kind, with the path's name and namespace.
std::expected<json, KubeResponse> object_in(const CustomKind& kind, const KubeRequest& request,
                                            const KubePath& path, const std::string& name) {
  json object = json::parse(request.body, nullptr, false);
  if (!object.is_object())
    return std::unexpected(
        status_response(400, "BadRequest", "the body of the request was in an unknown format"));
  if (object.value("kind", "") != kind.kind || object.value("apiVersion", "") != path.group_version())
    return std::unexpected(
        status_response(400, "BadRequest",
                        fmt::format("the object provided is not a {} {}", path.group_version(), kind.kind)));
  if (!object.contains("metadata") || !object["metadata"].is_object()) object["metadata"] = json::object();
  json& metadata = object["metadata"];
  if (metadata.value("namespace", path.namespace_) != path.namespace_)
    return std::unexpected(status_response(
        400, "BadRequest",
        "the namespace of the provided object does not match the namespace sent on the request"));
  if (metadata.value("name", "") != name)
    return std::unexpected(
        name.empty() ? invalid(kind, "", "metadata.name: Required value: name is required")
                     : status_response(400, "BadRequest",
                                       "the name of the object does not match the name on the URL"));
  return object;
}

// `stored` changed to `wanted` by a client: .status kept (or, for a status write, only .status taken),
// generation bumped when .spec changed, a new resourceVersion.
json written(KubeStore& store, const json& stored, json wanted, bool status_write) {
  json result = stored;
  if (status_write) {
    if (wanted.contains("status")) result["status"] = wanted["status"];
  } else {
    const json status = stored.value("status", json());
    const bool spec_changed = wanted.value("spec", json()) != stored.value("spec", json());
    json metadata = stored["metadata"];
    // Clients may change labels and annotations; the rest of metadata is the server's.
    for (const char* field : {"labels", "annotations", "finalizers"}) {
      const json sent = wanted["metadata"].value(field, json());
      if (sent.is_null())
        metadata.erase(field);
      else
        metadata[field] = sent;
    }
    if (spec_changed) metadata["generation"] = metadata.value("generation", 1) + 1;
    result = std::move(wanted);
    result["metadata"] = std::move(metadata);
    result.erase("status");
    if (!status.is_null()) result["status"] = status;
  }
  result["metadata"]["resourceVersion"] = std::to_string(store.next_revision());
  return result;
}

KubeResponse create(KubeStore& store, const CustomKind& kind, const KubeRequest& request,
                    const KubePath& path) {
  if (path.namespace_.empty()) return method_not_allowed();
  json sent = json::parse(request.body, nullptr, false);
  const std::string name = sent.is_object() ? sent.value("metadata", json::object()).value("name", "") : "";
  auto object = object_in(kind, request, path, name);
  if (!object) return object.error();
  const auto key = key_of(kind, path.namespace_, name);
  if (store.custom_objects.contains(key))
    return status_response(409, "AlreadyExists",
                           fmt::format("{} \"{}\" already exists", qualified(kind), name),
                           details(kind, name));
  json& metadata = (*object)["metadata"];
  metadata["namespace"] = path.namespace_;
  metadata["uid"] = store.new_uid(7);
  metadata["generation"] = 1;
  metadata["creationTimestamp"] = kube_time(std::chrono::system_clock::now());
  metadata["resourceVersion"] = std::to_string(store.next_revision());
  if (kind.status_subresource) object->erase("status");
  store.custom_objects[key] = *object;
  record_change(store, key, "ADDED", *object);
  return json_answer(201, *object);
}

// The stored resourceVersion is not the one `object` carries (an empty or absent one always matches).
bool stale(const json& object, const json& stored) {
  const json sent = object.value("metadata", json::object()).value("resourceVersion", json());
  return sent.is_string() && !sent.get<std::string>().empty() &&
         sent != stored["metadata"].value("resourceVersion", json());
}

KubeResponse update(KubeStore& store, const CustomKind& kind, const KubeRequest& request,
                    const KubePath& path) {
  const auto it = store.custom_objects.find(key_of(kind, path.namespace_, path.name));
  if (it == store.custom_objects.end()) return not_found(kind, path.name);
  const bool status_write = path.subresource == "status";
  json wanted;
  if (request.method == "PUT") {
    auto object = object_in(kind, request, path, path.name);
    if (!object) return object.error();
    wanted = std::move(*object);
  } else {
    if (request.content_type.find("application/merge-patch+json") == std::string::npos)
      return status_response(
          415, "UnsupportedMediaType",
          "the body of the request was in an unknown format - accepted media types include: "
          "application/merge-patch+json");
    const json patch = json::parse(request.body, nullptr, false);
    if (!patch.is_object())
      return status_response(400, "BadRequest", "error decoding patch: not a JSON object");
    wanted = it->second;
    wanted.merge_patch(patch);
    // A patch without a resourceVersion applies to whatever is stored; one with a stale one is a conflict.
    if (!patch.value("metadata", json::object()).contains("resourceVersion"))
      wanted["metadata"]["resourceVersion"] = it->second["metadata"]["resourceVersion"];
  }
  if (stale(wanted, it->second)) return conflict(kind, path.name);
  it->second = written(store, it->second, std::move(wanted), status_write);
  record_change(store, it->first, "MODIFIED", it->second);
  return json_answer(200, it->second);
}

KubeResponse remove(KubeStore& store, const CustomKind& kind, const KubePath& path) {
  const auto it = store.custom_objects.find(key_of(kind, path.namespace_, path.name));
  if (it == store.custom_objects.end()) return not_found(kind, path.name);
  json removed = std::move(it->second);
  const CustomObjectKey key = it->first;
  store.custom_objects.erase(it);
  removed["metadata"]["resourceVersion"] = std::to_string(store.next_revision());
  record_change(store, key, "DELETED", removed);
  return json_answer(200, {{"kind", "Status"},
                           {"apiVersion", "v1"},
                           {"metadata", json::object()},
                           {"status", "Success"},
                           {"details",
                            {{"name", path.name},
                             {"group", kind.group},
                             {"kind", kind.resource},
                             {"uid", removed["metadata"].value("uid", "")}}}});
}

}  // namespace

bool serves_custom_resource(const KubePath& path) {
  const CustomKind* kind = kind_of(path);
  if (!kind) return false;
  if (path.subresource.empty()) return true;
  return path.subresource == "status" && kind->status_subresource && !path.name.empty();
}

std::vector<nlohmann::json> custom_resource_groups() {
  std::vector<json> groups;
  for (const auto& kind : custom_kinds()) {
    const json version = {{"groupVersion", kind.group + "/" + kind.version}, {"version", kind.version}};
    groups.push_back(
        {{"name", kind.group}, {"versions", json::array({version})}, {"preferredVersion", version}});
  }
  return groups;
}

std::optional<nlohmann::json> custom_resource_list(const KubePath& path) {
  json resources = json::array();
  for (const auto& kind : custom_kinds()) {
    if (kind.group != path.group || kind.version != path.version) continue;
    std::string singular = kind.kind;
    for (auto& c : singular) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    json entry = {{"name", kind.resource},
                  {"singularName", singular},
                  {"namespaced", true},
                  {"kind", kind.kind},
                  {"verbs", {"create", "delete", "get", "list", "patch", "update"}}};
    if (kind.kind == "MaestroAutoscaler") {
      entry["shortNames"] = {"msa"};
      entry["categories"] = {"all", "autoscaling"};
    } else if (kind.kind == "HorizontalPodAutoscaler") {
      entry["shortNames"] = {"hpa"};
      entry["categories"] = {"all"};
    } else {
      entry["shortNames"] = {"so"};
    }
    resources.push_back(entry);
    if (kind.status_subresource)
      resources.push_back({{"name", kind.resource + "/status"},
                           {"singularName", ""},
                           {"namespaced", true},
                           {"kind", kind.kind},
                           {"verbs", {"get", "patch", "update"}}});
  }
  if (resources.empty()) return std::nullopt;
  return resources;
}

KubeResponse handle_custom_resources(KubeStore& store, const KubeRequest& request, const KubePath& path) {
  const CustomKind& kind = *kind_of(path);
  KubeResponse response;
  {
    std::unique_lock lock(store.mutex);
    if (request.method == "GET") {
      const std::string watching = query_value(request.query, "watch");
      if (path.name.empty() && (watching == "true" || watching == "1"))
        return watch(store, lock, kind, request, path);
      if (path.name.empty()) return list(store, kind, request, path);
      const auto it = store.custom_objects.find(key_of(kind, path.namespace_, path.name));
      if (it == store.custom_objects.end()) return not_found(kind, path.name);
      if (wants_table(request))
        return json_answer(200, custom_table(kind, {&it->second}, request, store.revision));
      return json_answer(200, it->second);
    }
    if (path.namespace_.empty()) return method_not_allowed();
    if (request.method == "POST" && path.name.empty() && path.subresource.empty()) {
      response = create(store, kind, request, path);
    } else if ((request.method == "PUT" || request.method == "PATCH") && !path.name.empty()) {
      response = update(store, kind, request, path);
    } else if (request.method == "DELETE" && !path.name.empty() && path.subresource.empty()) {
      response = remove(store, kind, path);
    } else {
      return method_not_allowed();
    }
  }
  store.written.notify_all();
  return response;
}

}  // namespace maestro::local
