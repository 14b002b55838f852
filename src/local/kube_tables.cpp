// Server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks for, with one row per object and
// each row's object as includeObject asks (metadata only by default, which kubectl uses for -A's namespace).
#include "local/kube_handlers.hpp"

#include <fmt/format.h>

namespace maestro::local {

using nlohmann::json;

bool wants_table(const KubeRequest& request) {
  // "application/json;as=Table;v=v1;g=meta.k8s.io,application/json": the first acceptable type wins, and
  // only v1 Tables are served.
  const auto first = request.accept.substr(0, request.accept.find(','));
  return first.find("as=Table") != std::string::npos && first.find("v=v1;") != std::string::npos;
}

json table(const std::vector<TableColumn>& columns, std::vector<std::vector<json>> cells,
           const std::vector<json>& objects, const KubeRequest& request,
           const std::string& resource_version) {
  json definitions = json::array();
  for (const auto& column : columns)
    definitions.push_back({{"name", column.name},
                           {"type", column.type},
                           {"format", column.format},
                           {"description", column.name},
                           {"priority", column.priority}});
  const std::string include = query_value(request.query, "includeObject");
  json rows = json::array();
  for (std::size_t i = 0; i < cells.size(); ++i) {
    json row = {{"cells", std::move(cells[i])}};
    if (include == "Object") {
      row["object"] = objects[i];
    } else if (include != "None") {
      row["object"] = {{"kind", "PartialObjectMetadata"},
                       {"apiVersion", "meta.k8s.io/v1"},
                       {"metadata", objects[i].value("metadata", json::object())}};
    }
    rows.push_back(std::move(row));
  }
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", {{"resourceVersion", resource_version}}},
          {"columnDefinitions", definitions},
          {"rows", rows}};
}

std::string human_age(std::chrono::system_clock::duration age) {
  const auto seconds = std::max<long long>(0, std::chrono::duration_cast<std::chrono::seconds>(age).count());
  const long long minutes = seconds / 60;
  const long long hours = minutes / 60;
  if (seconds < 120) return fmt::format("{}s", seconds);
  if (minutes < 10)
    return seconds % 60 == 0 ? fmt::format("{}m", minutes) : fmt::format("{}m{}s", minutes, seconds % 60);
  if (minutes < 180) return fmt::format("{}m", minutes);
  if (hours < 8)
    return minutes % 60 == 0 ? fmt::format("{}h", hours) : fmt::format("{}h{}m", hours, minutes % 60);
  if (hours < 48) return fmt::format("{}h", hours);
  return fmt::format("{}d", hours / 24);
}

}  // namespace maestro::local
