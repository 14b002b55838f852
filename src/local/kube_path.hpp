// What a request to the local Kubernetes API asks for, read from its path and query: discovery documents
// (/version, /api, /apis, a group version's resource list) or a resource (group, version, namespace,
// resource, name, subresource) as the API server's REST paths spell them.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace maestro::local {

enum class KubePathKind {
  kVersion,       // /version
  kLegacyGroup,   // /api: the core group's versions
  kGroups,        // /apis: every named group
  kResourceList,  // /api/v1, /apis/GROUP/VERSION: a group version's resources
  kResource,      // [/namespaces/NS]/RESOURCE[/NAME[/SUBRESOURCE]] under a group version
  kUnknown,
};

struct KubePath {
  KubePathKind kind = KubePathKind::kUnknown;
  std::string group;  // "" for the core group (/api/v1)
  std::string version;
  std::string namespace_;  // "" when the request spans every namespace
  std::string resource;
  std::string name;
  std::string subresource;

  std::string group_version() const { return group.empty() ? version : group + "/" + version; }
};

KubePath parse_kube_path(std::string_view path);

// The percent-decoded value of `key` in a query string ("" when absent).
std::string query_value(std::string_view query, std::string_view key);

// A label selector of equality-based requirements ("app=web,tier!=db,canary,!legacy"), as labelSelector
// carries it. Set-based requirements ("env in (a,b)") are not understood: parsing them fails.
class LabelSelector {
 public:
  // False (and an empty selector) when `text` is not an equality-based selector.
  static bool parse(std::string_view text, LabelSelector& out);
  bool matches(const std::map<std::string, std::string>& labels) const;

 private:
  enum class Op { kEquals, kNotEquals, kExists, kNotExists };
  struct Requirement {
    std::string key;
    Op op = Op::kExists;
    std::string value;
  };
  std::vector<Requirement> requirements_;
};

}  // namespace maestro::local
