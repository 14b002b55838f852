// apps/v1 Deployments and StatefulSets and their autoscaling/v1 scale subresource. A write bumps the store's
// revision and the object's resourceVersion; a write that carries a resourceVersion other than the current
// one is refused 409 Conflict (optimistic concurrency, as the API server does for any update).
#include <charconv>
#include <expected>

#include <fmt/format.h>

#include "local/kube_handlers.hpp"

namespace maestro::local {

using nlohmann::json;

namespace {

enum class PatchType { kMerge, kStrategicMerge, kJsonPatch, kUnsupported };

PatchType patch_type(const std::string& content_type) {
  if (content_type.find("application/merge-patch+json") != std::string::npos) return PatchType::kMerge;
  if (content_type.find("application/strategic-merge-patch+json") != std::string::npos)
    return PatchType::kStrategicMerge;
  if (content_type.find("application/json-patch+json") != std::string::npos) return PatchType::kJsonPatch;
  return PatchType::kUnsupported;
}

KubeResponse unsupported_media_type() {
  return status_response(415, "UnsupportedMediaType",
                         "the body of the request was in an unknown format - accepted media types include: "
                         "application/json-patch+json, application/merge-patch+json, "
                         "application/strategic-merge-patch+json");
}

struct Patched {
  json object;
  bool touches_replicas = false;  // the patch sets spec.replicas (a scale write, even to the same count)
};

// `object` with the patch in `body` applied. A strategic merge patch is applied as a JSON merge patch: the
// two agree on the maps this API lets clients change (labels, annotations) and on spec.replicas.
std::expected<Patched, KubeResponse> apply_patch(const json& object, const KubeRequest& request) {
  const PatchType type = patch_type(request.content_type);
  if (type == PatchType::kUnsupported) return std::unexpected(unsupported_media_type());
  const json patch = json::parse(request.body, nullptr, false);
  if (patch.is_discarded())
    return std::unexpected(status_response(400, "BadRequest", "error decoding patch: invalid JSON"));
  Patched result{object};
  if (type == PatchType::kJsonPatch) {
    if (!patch.is_array())
      return std::unexpected(status_response(400, "BadRequest", "json patch must be an array"));
    try {
      result.object = object.patch(patch);
    } catch (const json::exception& error) {
      return std::unexpected(
          status_response(422, "Invalid", fmt::format("the patch did not apply: {}", error.what())));
    }
    for (const auto& operation : patch)
      if (operation.is_object() && operation.value("path", "") == "/spec/replicas")
        result.touches_replicas = true;
    return result;
  }
  if (!patch.is_object())
    return std::unexpected(status_response(400, "BadRequest", "error decoding patch: not a JSON object"));
  result.object.merge_patch(patch);
  const json spec = patch.value("spec", json::object());
  result.touches_replicas = spec.is_object() && spec.contains("replicas");
  return result;
}

// 409 when the object names a resourceVersion other than `current`; 400 when it is not a string.
std::optional<KubeResponse> check_version(const json& object, std::uint64_t current, const std::string& name,
                                          const std::string& resource) {
  const json metadata = object.value("metadata", json::object());
  if (!metadata.is_object() || !metadata.contains("resourceVersion") || metadata["resourceVersion"].is_null())
    return std::nullopt;
  const json& sent = metadata["resourceVersion"];
  if (!sent.is_string())
    return status_response(400, "BadRequest", "metadata.resourceVersion must be a string");
  if (!sent.get<std::string>().empty() && sent.get<std::string>() != std::to_string(current))
    return deployment_conflict(name, resource);
  return std::nullopt;
}

std::expected<int, KubeResponse> replicas_of(const json& object, const std::string& name,
                                             const std::string& kind) {
  const json spec = object.value("spec", json::object());
  const json replicas = spec.is_object() ? spec.value("replicas", json()) : json();
  if (!replicas.is_number_integer() || replicas.get<long long>() < 0 || replicas.get<long long>() > 1'000'000)
    return std::unexpected(status_response(
        422, "Invalid",
        fmt::format(
            "{} \"{}\" is invalid: spec.replicas: Invalid value: {}: must be greater than or equal to 0",
            kind == "Scale" ? "Scale.autoscaling" : "Deployment.apps", name, replicas.dump()),
        {{"name", name}, {"group", kind == "Scale" ? "autoscaling" : "apps"}, {"kind", kind}}));
  return replicas.get<int>();
}

std::expected<std::map<std::string, std::string>, KubeResponse> string_map(const json& metadata,
                                                                           const char* field,
                                                                           const std::string& name) {
  std::map<std::string, std::string> out;
  const json value = metadata.value(field, json::object());
  if (value.is_null()) return out;
  if (!value.is_object())
    return std::unexpected(status_response(
        422, "Invalid",
        fmt::format("Deployment.apps \"{}\" is invalid: metadata.{}: must be a map", name, field)));
  for (const auto& [key, text] : value.items()) {
    if (!text.is_string())
      return std::unexpected(
          status_response(422, "Invalid",
                          fmt::format("Deployment.apps \"{}\" is invalid: metadata.{}[{}]: must be a string",
                                      name, field, key)));
    out[key] = text.get<std::string>();
  }
  return out;
}

bool parse_count(const std::string& text, std::size_t& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

json deployment_table(const std::vector<const StoredDeployment*>& items, const KubeRequest& request,
                      std::uint64_t revision) {
  static const std::vector<TableColumn> columns = {
      {"Name", "string", "name", 0},   {"Ready", "string", "", 0},   {"Up-to-date", "integer", "", 0},
      {"Available", "integer", "", 0}, {"Age", "string", "", 0},     {"Containers", "string", "", 1},
      {"Images", "string", "", 1},     {"Selector", "string", "", 1}};
  std::vector<std::vector<json>> cells;
  std::vector<json> objects;
  const auto now = std::chrono::system_clock::now();
  for (const StoredDeployment* item : items) {
    const DeploymentStatus status = item->current_status();
    const std::string& name = item->spec.name;
    cells.push_back({name, fmt::format("{}/{}", status.ready_replicas, item->spec.replicas), status.replicas,
                     status.available_replicas, human_age(now - item->created), name, "example/" + name,
                     "app=" + name});
    objects.push_back(item->to_json());
  }
  return table(columns, std::move(cells), objects, request, std::to_string(revision));
}

KubeResponse list_deployments(KubeStore& store, const KubeRequest& request, const KubePath& path) {
  if (request.method != "GET") return method_not_allowed();
  LabelSelector selector;
  const std::string selector_text = query_value(request.query, "labelSelector");
  if (!LabelSelector::parse(selector_text, selector))
    return status_response(400, "BadRequest",
                           fmt::format("unable to parse requirement: \"{}\"", selector_text));
  std::vector<const StoredDeployment*> matching;
  for (const auto& [key, stored] : store.workloads(path.resource))
    if ((path.namespace_.empty() || key.first == path.namespace_) && selector.matches(stored.spec.labels))
      matching.push_back(&stored);
  const std::string limit_text = query_value(request.query, "limit");
  const std::string continue_token = query_value(request.query, "continue");
  std::size_t limit = matching.size();
  std::size_t start = 0;
  if (!limit_text.empty() && (!parse_count(limit_text, limit) || limit == 0))
    return status_response(400, "BadRequest", fmt::format("invalid limit \"{}\"", limit_text));
  if (!continue_token.empty() && !parse_count(continue_token, start))
    return status_response(400, "BadRequest", "continue key is not valid");
  std::vector<const StoredDeployment*> page;
  for (std::size_t i = start; i < matching.size() && i < start + limit; ++i) page.push_back(matching[i]);
  if (wants_table(request)) return json_answer(200, deployment_table(page, request, store.revision));
  json items = json::array();
  for (const auto* stored : page) items.push_back(stored->to_json());
  json list_meta = {{"resourceVersion", std::to_string(store.revision)}};
  if (start + page.size() < matching.size()) list_meta["continue"] = std::to_string(start + page.size());
  return json_answer(200, {{"kind", path.resource == "statefulsets" ? "StatefulSetList" : "DeploymentList"},
                           {"apiVersion", "apps/v1"},
                           {"metadata", list_meta},
                           {"items", items}});
}

// PATCH of the deployment itself: labels, annotations and spec.replicas can change.
KubeResponse patch_deployment(KubeStore& store, StoredDeployment& stored, const KubeRequest& request) {
  const std::string& name = stored.spec.name;
  auto patched = apply_patch(stored.to_json(), request);
  if (!patched) return patched.error();
  if (auto refused =
          check_version(patched->object, stored.resource_version, name, workload_resource(stored.spec.kind)))
    return *refused;
  const json metadata = patched->object.value("metadata", json::object());
  auto labels = string_map(metadata, "labels", name);
  if (!labels) return labels.error();
  auto annotations = string_map(metadata, "annotations", name);
  if (!annotations) return annotations.error();
  auto replicas = replicas_of(patched->object, name, "Deployment");
  if (!replicas) return replicas.error();
  if (*labels != stored.spec.labels || *annotations != stored.spec.annotations ||
      *replicas != stored.spec.replicas) {
    if (*replicas != stored.spec.replicas) ++stored.generation;
    stored.spec.labels = std::move(*labels);
    stored.spec.annotations = std::move(*annotations);
    stored.spec.replicas = *replicas;
    stored.resource_version = store.next_revision();
  }
  return json_answer(200, stored.to_json());
}

// GET, PATCH or PUT of the scale subresource.
KubeResponse serve_scale(KubeStore& store, StoredDeployment& stored, const KubeRequest& request) {
  const std::string& name = stored.spec.name;
  if (request.method == "GET") return json_answer(200, stored.scale_json());
  json desired;
  bool touches_replicas = true;
  if (request.method == "PATCH") {
    auto patched = apply_patch(stored.scale_json(), request);
    if (!patched) return patched.error();
    desired = std::move(patched->object);
    touches_replicas = patched->touches_replicas;
  } else if (request.method == "PUT") {
    desired = json::parse(request.body, nullptr, false);
    if (!desired.is_object() || desired.value("kind", "Scale") != "Scale")
      return status_response(400, "BadRequest", "the body of the request is not an autoscaling/v1 Scale");
  } else {
    return method_not_allowed();
  }
  if (auto refused =
          check_version(desired, stored.resource_version, name, workload_resource(stored.spec.kind)))
    return *refused;
  if (!touches_replicas) return json_answer(200, stored.scale_json());
  auto replicas = replicas_of(desired, name, "Scale");
  if (!replicas) return replicas.error();
  const int from = stored.spec.replicas;
  if (*replicas != from) {
    stored.spec.replicas = *replicas;
    stored.resource_version = store.next_revision();
    ++stored.generation;
  }
  store.scale_writes.push_back(
      {stored.spec.namespace_, name, from, *replicas, std::to_string(stored.resource_version)});
  return json_answer(200, stored.scale_json());
}

}  // namespace

KubeResponse handle_deployments(KubeStore& store, const KubeRequest& request, const KubePath& path) {
  KubeResponse response;
  std::uint64_t revision_before = 0;
  {
    std::lock_guard lock(store.mutex);
    revision_before = store.revision;
    if (path.name.empty()) return list_deployments(store, request, path);
    auto& workloads = store.workloads(path.resource);
    const auto found = workloads.find({path.namespace_, path.name});
    if (found == workloads.end()) return deployment_not_found(path.name, path.resource);
    StoredDeployment& stored = found->second;
    if (path.subresource == "scale") {
      response = serve_scale(store, stored, request);
    } else if (request.method == "GET") {
      response = json_answer(200, wants_table(request) ? deployment_table({&stored}, request, store.revision)
                                                       : stored.to_json());
    } else if (request.method == "PATCH") {
      response = patch_deployment(store, stored, request);
    } else {
      response = method_not_allowed();
    }
    if (store.revision == revision_before) return response;
  }
  store.written.notify_all();
  return response;
}

}  // namespace maestro::local
