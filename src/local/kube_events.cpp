// core/v1 Events: create (as the controller records its decisions) and list, in one namespace or across all.
#include <cctype>
#include <ctime>

#include <fmt/format.h>

#include "local/kube_handlers.hpp"

namespace maestro::local {

using nlohmann::json;

namespace {

KubeResponse create_event(KubeStore& store, const KubeRequest& request, const KubePath& path) {
  const std::string& ns = path.namespace_;
  if (ns.empty()) return method_not_allowed();
  const json event = json::parse(request.body, nullptr, false);
  if (!event.is_object())
    return status_response(400, "BadRequest", "the body of the request was in an unknown format");
  if (event.value("kind", "") != "Event" || event.value("apiVersion", "") != "v1")
    return status_response(400, "BadRequest", "the object provided is not a v1 Event");
  const json metadata = event.value("metadata", json::object());
  if (metadata.contains("namespace") && metadata["namespace"] != ns)
    return status_response(
        400, "BadRequest",
        "the namespace of the provided object does not match the namespace sent on the request");
  const json involved = event.value("involvedObject", json::object());
  std::string event_name = metadata.value("name", "");
  if (event_name.empty() && metadata.contains("generateName"))
    event_name = metadata.value("generateName", "") + std::to_string(store.revision + 1);
  if (event_name.empty() || !involved.is_object() || involved.value("name", "").empty() ||
      event.value("reason", "").empty())
    return status_response(
        422, "Invalid", "Event.core \"\" is invalid: metadata.name, involvedObject and reason are required");
  if (!store.event_names.insert({ns, event_name}).second)
    return status_response(409, "AlreadyExists", fmt::format("events \"{}\" already exists", event_name),
                           {{"name", event_name}, {"kind", "events"}});
  store.events.push_back({ns, involved.value("name", ""), involved.value("kind", ""),
                          event.value("reason", ""), event.value("message", ""), event.value("type", ""),
                          event.value("source", json::object()).value("component", ""), request.body});
  json created = event;
  created["metadata"]["name"] = event_name;
  created["metadata"]["namespace"] = ns;
  created["metadata"]["uid"] = store.new_uid(9);
  created["metadata"]["resourceVersion"] = std::to_string(store.next_revision());
  created["metadata"]["creationTimestamp"] =
      event.value("firstTimestamp", kube_time(std::chrono::system_clock::now()));
  store.event_objects.push_back(created);
  return json_answer(201, created);
}

// An event's time as the API server prints it: lastTimestamp, else eventTime, else creation.
std::chrono::system_clock::time_point event_time(const json& event) {
  std::string text = event.value("lastTimestamp", "");
  if (text.empty()) text = event.value("eventTime", "");
  if (text.empty()) text = event.value("metadata", json::object()).value("creationTimestamp", "");
  std::tm parts{};
  if (text.size() < 19 || !strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &parts))
    return std::chrono::system_clock::now();
  return std::chrono::system_clock::from_time_t(timegm(&parts));
}

json event_table(const std::vector<const json*>& items, const KubeRequest& request, std::uint64_t revision) {
  static const std::vector<TableColumn> columns = {
      {"Last Seen", "string", "", 0}, {"Type", "string", "", 0},       {"Reason", "string", "", 0},
      {"Object", "string", "", 0},    {"Subobject", "string", "", 1},  {"Source", "string", "", 1},
      {"Message", "string", "", 0},   {"First Seen", "string", "", 1}, {"Count", "integer", "", 1},
      {"Name", "string", "name", 1}};
  const auto now = std::chrono::system_clock::now();
  std::vector<std::vector<json>> cells;
  std::vector<json> objects;
  for (const json* event : items) {
    const json involved = event->value("involvedObject", json::object());
    std::string kind = involved.value("kind", "");
    for (auto& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string age = human_age(now - event_time(*event));
    cells.push_back({age, event->value("type", ""), event->value("reason", ""),
                     fmt::format("{}/{}", kind, involved.value("name", "")), involved.value("fieldPath", ""),
                     event->value("source", json::object()).value("component", ""),
                     event->value("message", ""), age, event->value("count", 1),
                     (*event)["metadata"].value("name", "")});
    objects.push_back(*event);
  }
  return table(columns, std::move(cells), objects, request, std::to_string(revision));
}

KubeResponse list_events(const KubeStore& store, const KubeRequest& request, const KubePath& path) {
  std::vector<const json*> matching;
  for (const auto& event : store.event_objects)
    if (path.namespace_.empty() || event["metadata"].value("namespace", "") == path.namespace_)
      matching.push_back(&event);
  if (wants_table(request)) return json_answer(200, event_table(matching, request, store.revision));
  json items = json::array();
  for (const json* event : matching) items.push_back(*event);
  return json_answer(200, {{"kind", "EventList"},
                           {"apiVersion", "v1"},
                           {"metadata", {{"resourceVersion", std::to_string(store.revision)}}},
                           {"items", items}});
}

}  // namespace

KubeResponse handle_events(KubeStore& store, const KubeRequest& request, const KubePath& path) {
  KubeResponse response;
  {
    std::lock_guard lock(store.mutex);
    if (request.method == "GET") return list_events(store, request, path);
    if (request.method != "POST") return method_not_allowed();
    response = create_event(store, request, path);
  }
  store.written.notify_all();
  return response;
}

}  // namespace maestro::local
