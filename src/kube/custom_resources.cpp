#include "kube/custom_resources.hpp"

#include <fmt/format.h>

#include "base/json_fields.hpp"

namespace maestro::kube {

namespace {

using nlohmann::json;

constexpr int kListPageSize = 500;
constexpr int kMaxListPages = 1000;  // a continue token that never ends is a broken server

std::string object_path(const ResourceType& type, const std::string& ns, const std::string& name) {
  return fmt::format("{}/{}", collection_path(type, ns), net::url_encode(name));
}

KubeError failure(KubeErrorKind kind, std::string message) {
  return KubeError{{std::move(message)}, kind, 0, ""};
}

KubeResult<json> object_from(const net::Response& response, const std::string& what) {
  json object = json::parse(response.body, nullptr, false);
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object())
    return std::unexpected(
        failure(KubeErrorKind::kBadResponse, fmt::format("{}: malformed response: not an object", what)));
  return object;
}

}  // namespace

std::string collection_path(const ResourceType& type, const std::string& ns) {
  const std::string group_version =
      type.group.empty() ? "/api/" + type.version : fmt::format("/apis/{}/{}", type.group, type.version);
  if (ns.empty()) return fmt::format("{}/{}", group_version, type.resource);
  return fmt::format("{}/namespaces/{}/{}", group_version, net::url_encode(ns), type.resource);
}

KubeResult<ObjectList> list_objects(KubeClient& kube, const ResourceType& type, const std::string& ns) {
  const std::string what =
      fmt::format("list {}.{} in {}", type.resource, type.group, ns.empty() ? "all namespaces" : ns);
  ObjectList found;
  std::string continue_token;
  int pages = 0;
  do {
    if (++pages > kMaxListPages)
      return std::unexpected(
          failure(KubeErrorKind::kBadResponse,
                  fmt::format("{}: malformed response: the continue token never ends", what)));
    std::string path = fmt::format("{}?limit={}", collection_path(type, ns), kListPageSize);
    if (!continue_token.empty()) path += "&continue=" + net::url_encode(continue_token);
    auto response = kube.http().get(path);
    if (!response) return std::unexpected(transport_error(response.error(), what));
    if (response->status != 200) return std::unexpected(error_from_response(*response, what));
    const json list = json::parse(response->body, nullptr, false);
    if (base::json_string(list, "kind") != type.list_kind || !list.contains("items") ||
        !list["items"].is_array())
      return std::unexpected(failure(KubeErrorKind::kBadResponse,
                                     fmt::format("{}: malformed response: not a {}", what, type.list_kind)));
    for (const auto& item : list["items"])
      if (item.is_object() && item.contains("metadata") && item["metadata"].is_object())
        found.items.push_back(item);
    const json& metadata = base::json_object(list, "metadata");
    found.resource_version = base::json_string(metadata, "resourceVersion");
    continue_token = base::json_string(metadata, "continue");
  } while (!continue_token.empty());
  return found;
}

KubeResult<json> get_object(KubeClient& kube, const ResourceType& type, const std::string& ns,
                            const std::string& name) {
  const std::string what = fmt::format("get {}.{} {}/{}", type.resource, type.group, ns, name);
  auto response = kube.http().get(object_path(type, ns, name));
  if (!response) return std::unexpected(transport_error(response.error(), what));
  if (response->status != 200) return std::unexpected(error_from_response(*response, what));
  return object_from(*response, what);
}

KubeResult<json> patch_status(KubeClient& kube, const ResourceType& type, const std::string& ns,
                              const std::string& name, const json& status,
                              const std::string& resource_version) {
  const std::string what = fmt::format("patch status of {}.{} {}/{}", type.resource, type.group, ns, name);
  // A merge patch replaces arrays (the conditions) whole and merges maps: fields of `status` overwrite.
  const json patch = {{"metadata", {{"resourceVersion", resource_version}}}, {"status", status}};
  auto response = kube.http().patch(object_path(type, ns, name) + "/status", patch.dump(),
                                    "application/merge-patch+json");
  if (!response) return std::unexpected(transport_error(response.error(), what));
  if (response->status != 200) return std::unexpected(error_from_response(*response, what));
  return object_from(*response, what);
}

KubeResult<ResourceType> scalable_resource(KubeClient& kube, const std::string& api_version,
                                           const std::string& kind) {
  const std::string what = fmt::format("find the scale subresource of {} {}", api_version, kind);
  if (api_version == "apps/v1" && kind == "StatefulSet") return kStatefulSets;
  if (api_version == "apps/v1" && kind == "ReplicaSet") return kReplicaSets;
  const auto slash = api_version.find('/');
  if (api_version.empty() || slash == 0 || api_version.find('/', slash + 1) != std::string::npos)
    return std::unexpected(failure(KubeErrorKind::kInvalid, fmt::format("{}: not a group/version", what)));
  // Discovery is a non-resource URL (no RBAC rule names it): the core group's is /api/v1, a named group's
  // /apis/GROUP/VERSION.
  const bool core_group = slash == std::string::npos;
  auto response = kube.http().get(fmt::format("/{}/{}", core_group ? "api" : "apis", api_version));
  if (!response) return std::unexpected(transport_error(response.error(), what));
  if (response->status != 200) return std::unexpected(error_from_response(*response, what));
  const json list = json::parse(response->body, nullptr, false);
  if (!list.is_object() || !list.contains("resources") || !list["resources"].is_array())
    return std::unexpected(failure(KubeErrorKind::kBadResponse,
                                   fmt::format("{}: malformed response: not an APIResourceList", what)));
  std::string plural;
  bool has_scale = false;
  for (const auto& resource : list["resources"]) {
    if (!resource.is_object()) continue;
    const std::string name = resource.value("name", "");
    if (resource.value("kind", "") == kind && name.find('/') == std::string::npos) plural = name;
  }
  if (plural.empty())
    return std::unexpected(
        failure(KubeErrorKind::kNotFound, fmt::format("{}: {} serves no kind {}", what, api_version, kind)));
  for (const auto& resource : list["resources"])
    if (resource.is_object() && resource.value("name", "") == plural + "/scale") has_scale = true;
  if (!has_scale)
    return std::unexpected(
        failure(KubeErrorKind::kInvalid, fmt::format("{}: {} has no scale subresource", what, plural)));
  return ResourceType{core_group ? "" : api_version.substr(0, slash),
                      core_group ? api_version : api_version.substr(slash + 1), plural, kind + "List"};
}

KubeResult<Scale> get_workload_scale(KubeClient& kube, const ResourceType& type, const std::string& ns,
                                     const std::string& name) {
  const std::string what = fmt::format("get scale of {}.{} {}/{}", type.resource, type.group, ns, name);
  auto response = kube.http().get(object_path(type, ns, name) + "/scale");
  if (!response) return std::unexpected(transport_error(response.error(), what));
  if (response->status != 200) return std::unexpected(error_from_response(*response, what));
  return parse_scale(response->body);
}

KubeResult<Scale> patch_workload_scale(KubeClient& kube, const ResourceType& type, const std::string& ns,
                                       const std::string& name, int replicas,
                                       const std::string& resource_version) {
  const std::string what =
      fmt::format("patch scale of {}.{} {}/{} to {}", type.resource, type.group, ns, name, replicas);
  const json patch = {{"metadata", {{"resourceVersion", resource_version}}},
                      {"spec", {{"replicas", replicas}}}};
  auto response =
      kube.http().patch(object_path(type, ns, name) + "/scale", patch.dump(), "application/merge-patch+json");
  if (!response) return std::unexpected(transport_error(response.error(), what));
  if (response->status != 200) return std::unexpected(error_from_response(*response, what));
  return parse_scale(response->body);
}

}  // namespace maestro::kube
