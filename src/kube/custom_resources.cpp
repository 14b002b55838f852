#include "kube/custom_resources.hpp"

#include <fmt/format.h>

#include "core/json_fields.hpp"

namespace maestro::kube {

namespace {

using nlohmann::json;

constexpr int kListPageSize = 500;
constexpr int kMaxListPages = 1000;  // a continue token that never ends is a broken server

std::string collection_path(const ResourceType& type, const std::string& ns) {
  const std::string group_version =
      type.group.empty() ? "/api/" + type.version : fmt::format("/apis/{}/{}", type.group, type.version);
  if (ns.empty()) return fmt::format("{}/{}", group_version, type.resource);
  return fmt::format("{}/namespaces/{}/{}", group_version, net::url_encode(ns), type.resource);
}

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
    if (core::json_string(list, "kind") != type.list_kind || !list.contains("items") ||
        !list["items"].is_array())
      return std::unexpected(failure(KubeErrorKind::kBadResponse,
                                     fmt::format("{}: malformed response: not a {}", what, type.list_kind)));
    for (const auto& item : list["items"])
      if (item.is_object() && item.contains("metadata") && item["metadata"].is_object())
        found.items.push_back(item);
    const json& metadata = core::json_object(list, "metadata");
    found.resource_version = core::json_string(metadata, "resourceVersion");
    continue_token = core::json_string(metadata, "continue");
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

}  // namespace maestro::kube
