// Discovery as the API server answers it without aggregation: kubectl asks /api and /apis for the
// aggregated APIGroupDiscoveryList first but also accepts application/json, and on a plain APIVersions or
// APIGroupList falls back to reading each group version's APIResourceList.
#include "local/kube_handlers.hpp"

namespace maestro::local {

using nlohmann::json;

namespace {

json resource(std::string name, std::string singular, std::string kind, std::vector<std::string> verbs,
              std::vector<std::string> short_names = {}) {
  json entry = {{"name", std::move(name)},
                {"singularName", std::move(singular)},
                {"namespaced", true},
                {"kind", std::move(kind)},
                {"verbs", std::move(verbs)}};
  if (!short_names.empty()) entry["shortNames"] = std::move(short_names);
  return entry;
}

}  // namespace

bool serves_resource(const KubePath& path) {
  if (path.kind != KubePathKind::kResource) return false;
  if (path.group == "apps" && path.version == "v1" &&
      (path.resource == "deployments" || path.resource == "statefulsets"))
    return path.subresource.empty() || (path.subresource == "scale" && !path.name.empty());
  if (path.group.empty() && path.version == "v1" && path.resource == "events")
    return path.subresource.empty() && path.name.empty();
  if (path.group.empty() && path.version == "v1" && path.resource == "pods") return path.subresource.empty();
  return serves_custom_resource(path);
}

KubeResponse handle_discovery(const KubePath& path) {
  switch (path.kind) {
    case KubePathKind::kVersion:
      return json_answer(200, {{"major", "1"},
                               {"minor", "32"},
                               {"gitVersion", "v1.32.0-maestro-local"},
                               {"gitCommit", ""},
                               {"gitTreeState", "clean"},
                               {"buildDate", "2026-01-01T00:00:00Z"},
                               {"goVersion", ""},
                               {"compiler", "g++"},
                               {"platform", "linux/amd64"}});
    case KubePathKind::kLegacyGroup:
      return json_answer(200, {{"kind", "APIVersions"}, {"versions", {"v1"}}});
    case KubePathKind::kGroups: {
      const json apps_v1 = {{"groupVersion", "apps/v1"}, {"version", "v1"}};
      json groups = json::array(
          {{{"name", "apps"}, {"versions", json::array({apps_v1})}, {"preferredVersion", apps_v1}}});
      for (auto& group : custom_resource_groups()) groups.push_back(std::move(group));
      return json_answer(200, {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}});
    }
    case KubePathKind::kResourceList: {
      json resources;
      if (path.group.empty() && path.version == "v1") {
        json pods = resource("pods", "pod", "Pod", {"get", "list"}, {"po"});
        pods["categories"] = {"all"};
        resources = json::array({resource("events", "event", "Event", {"create", "list"}, {"ev"}), pods});
      } else if (path.group == "apps" && path.version == "v1") {
        json deployments =
            resource("deployments", "deployment", "Deployment", {"get", "list", "patch"}, {"deploy"});
        deployments["categories"] = {"all"};
        json scale = resource("deployments/scale", "", "Scale", {"get", "patch", "update"});
        scale["group"] = "autoscaling";
        scale["version"] = "v1";
        json statefulsets =
            resource("statefulsets", "statefulset", "StatefulSet", {"get", "list", "patch"}, {"sts"});
        statefulsets["categories"] = {"all"};
        json statefulset_scale = scale;
        statefulset_scale["name"] = "statefulsets/scale";
        resources = json::array({deployments, scale, statefulsets, statefulset_scale});
      } else if (auto custom = custom_resource_list(path)) {
        resources = std::move(*custom);
      } else {
        return resource_not_found();
      }
      return json_answer(200, {{"kind", "APIResourceList"},
                               {"apiVersion", "v1"},
                               {"groupVersion", path.group_version()},
                               {"resources", resources}});
    }
    case KubePathKind::kResource:
    case KubePathKind::kUnknown:
      break;
  }
  return resource_not_found();
}

}  // namespace maestro::local
