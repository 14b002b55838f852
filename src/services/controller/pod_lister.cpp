#include "services/controller/pod_lister.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "base/json_fields.hpp"
#include "kube/cpu_request.hpp"

namespace maestro::controller {

namespace {

using nlohmann::json;

kube::KubeError bad_pod_list(const std::string& detail) {
  return kube::KubeError{
      {fmt::format("list pods: malformed response: {}", detail)}, kube::KubeErrorKind::kBadResponse, 0, ""};
}

std::optional<std::string> string_at(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

PodStatus pod_status(const json& pod) {
  PodStatus status;
  const json& metadata = pod.value("metadata", json::object());
  const json& pod_status = pod.value("status", json::object());
  status.name = metadata.value("name", "");
  status.deleting = metadata.contains("deletionTimestamp") && !metadata["deletionTimestamp"].is_null();
  status.phase = pod_status.value("phase", "Pending");
  if (const auto started = string_at(pod_status, "startTime")) status.start_time = parse_kube_time(*started);
  for (const auto& condition : pod_status.value("conditions", json::array())) {
    if (condition.value("type", "") != "Ready") continue;
    status.ready = condition.value("status", "") == "True";
    if (const auto changed = string_at(condition, "lastTransitionTime"))
      status.ready_transition = parse_kube_time(*changed);
  }
  status.cpu_request_m = kube::pod_cpu_request_m(base::json_object(pod, "spec"));
  return status;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_kube_time(const std::string& text) {
  std::tm parts{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &parts.tm_year, &parts.tm_mon, &parts.tm_mday,
                  &parts.tm_hour, &parts.tm_min, &parts.tm_sec, &consumed) != 6)
    return std::nullopt;
  // system_clock counts nanoseconds in 64 bits (years 1678 to 2262): a later year would overflow it.
  if (parts.tm_year < 1970 || parts.tm_year > 2200) return std::nullopt;
  parts.tm_year -= 1900;
  parts.tm_mon -= 1;
  auto at = std::chrono::system_clock::from_time_t(timegm(&parts));
  std::string_view rest = std::string_view(text).substr(static_cast<std::size_t>(consumed));
  if (!rest.empty() && rest.front() == '.') {  // fraction of a second
    double scale = 0.1, fraction = 0;
    rest.remove_prefix(1);
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      fraction += (rest.front() - '0') * scale;
      scale /= 10;
      rest.remove_prefix(1);
    }
    at += std::chrono::duration_cast<std::chrono::system_clock::duration>(
        std::chrono::duration<double>(fraction));
  }
  if (rest == "Z") return at;
  int hours = 0, minutes = 0;
  if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') &&
      std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &hours, &minutes) == 2) {
    const auto offset = std::chrono::hours(hours) + std::chrono::minutes(minutes);
    return rest[0] == '+' ? at - offset : at + offset;
  }
  return std::nullopt;
}

kube::KubeResult<std::vector<PodStatus>> parse_pod_list(const std::string& body) {
  const json list = json::parse(body, nullptr, false);
  if (list.is_discarded() || !list.is_object()) return std::unexpected(bad_pod_list("not a JSON object"));
  const auto items = list.find("items");
  if (items == list.end() || !(items->is_array() || items->is_null()))
    return std::unexpected(bad_pod_list("no items"));
  std::vector<PodStatus> pods;
  if (items->is_null()) return pods;  // an empty list may say "items": null
  for (const auto& item : *items) {
    if (!item.is_object()) return std::unexpected(bad_pod_list("an item is not an object"));
    try {
      pods.push_back(pod_status(item));
    } catch (const json::exception& error) {
      return std::unexpected(bad_pod_list(error.what()));
    }
    if (pods.back().name.empty()) return std::unexpected(bad_pod_list("a pod without a name"));
  }
  return pods;
}

kube::KubeResult<std::vector<PodStatus>> KubePodLister::list_pods(const std::string& namespace_,
                                                                  const std::string& selector) {
  const std::string what = fmt::format("list pods in {} ({})", namespace_, selector);
  auto response = kube_.http().get(fmt::format("/api/v1/namespaces/{}/pods?labelSelector={}",
                                               net::url_encode(namespace_), net::url_encode(selector)));
  if (!response) {
    const auto kind = response.error().kind == net::HttpErrorKind::kTimeout
                          ? kube::KubeErrorKind::kTimeout
                          : kube::KubeErrorKind::kUnreachable;
    return std::unexpected(
        kube::KubeError{{fmt::format("{}: {}", what, response.error().message)}, kind, 0, ""});
  }
  if (response->status != 200) return std::unexpected(kube::error_from_response(*response, what));
  return parse_pod_list(response->body);
}

}  // namespace maestro::controller
