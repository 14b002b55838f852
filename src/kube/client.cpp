#include "kube/client.hpp"

#include <nlohmann/json.hpp>

#include <ctime>
#include <optional>

#include "base/json_fields.hpp"
#include "kube/cpu_request.hpp"

namespace maestro::kube {

namespace {

using nlohmann::json;

constexpr int kListPageSize = 500;
// 500,000 deployments: a continue token that never ends is a broken server, not a big cluster.
constexpr int kMaxListPages = 1000;
// Kubernetes' replica counts are int32.
constexpr long long kMaxReplicas = 2147483647;

std::string deployment_path(const std::string& ns, const std::string& name) {
  return fmt::format("/apis/apps/v1/namespaces/{}/deployments/{}", net::url_encode(ns),
                     net::url_encode(name));
}

KubeError bad_response(const std::string& what, const std::string& detail) {
  return KubeError{
      {fmt::format("{}: malformed response: {}", what, detail)}, KubeErrorKind::kBadResponse, 0, ""};
}

std::map<std::string, std::string> string_map(const json& object) {
  std::map<std::string, std::string> out;
  if (!object.is_object()) return out;
  for (const auto& [key, value] : object.items())
    if (value.is_string()) out.emplace(key, value.get<std::string>());
  return out;
}

// A replica count: `fallback` if absent; nothing if it is not an integer in [0, 2^31-1] (never truncated).
std::optional<int> replicas_or(const json& object, const char* key, int fallback) {
  const auto it = object.find(key);
  if (it == object.end()) return fallback;
  if (it->is_number_unsigned() && it->get<unsigned long long>() <= kMaxReplicas) return it->get<int>();
  if (it->is_number_integer() && it->get<long long>() >= 0 && it->get<long long>() <= kMaxReplicas)
    return it->get<int>();
  return std::nullopt;
}

std::string string_or_empty(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

KubeResult<Deployment> deployment_from(const json& object) {
  const json& metadata = base::json_object(object, "metadata");
  const json& spec = base::json_object(object, "spec");
  const json& status = base::json_object(object, "status");
  Deployment deployment;
  deployment.name = string_or_empty(metadata, "name");
  deployment.namespace_ = string_or_empty(metadata, "namespace");
  deployment.uid = string_or_empty(metadata, "uid");
  deployment.resource_version = string_or_empty(metadata, "resourceVersion");
  deployment.labels = string_map(base::json_object(metadata, "labels"));
  deployment.annotations = string_map(base::json_object(metadata, "annotations"));
  const auto replicas = replicas_or(spec, "replicas", 1);
  const auto ready = replicas_or(status, "readyReplicas", 0);
  if (!replicas || !ready)
    return std::unexpected(
        bad_response(fmt::format("deployment {}/{}", deployment.namespace_, deployment.name),
                     fmt::format("{} is not a replica count (an integer from 0 to {})",
                                 replicas ? "status.readyReplicas" : "spec.replicas", kMaxReplicas)));
  deployment.replicas = *replicas;
  deployment.ready_replicas = *ready;
  deployment.cpu_request_m =
      pod_cpu_request_m(base::json_object(base::json_object(spec, "template"), "spec"));
  return deployment;
}

}  // namespace

std::string rfc3339(std::chrono::system_clock::time_point at) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

KubeError transport_error(const net::HttpError& error, const std::string& what) {
  const KubeErrorKind kind = error.kind == net::HttpErrorKind::kTimeout       ? KubeErrorKind::kTimeout
                             : error.kind == net::HttpErrorKind::kCredentials ? KubeErrorKind::kUnauthorized
                                                                              : KubeErrorKind::kUnreachable;
  return KubeError{{fmt::format("{}: {}", what, error.message)}, kind, 0, ""};
}

KubeError error_from_response(const net::Response& response, const std::string& what) {
  KubeError error;
  error.kind = kind_for_status(response.status);
  error.http_status = static_cast<int>(response.status);
  std::string message;
  // The API explains failures with a v1 Status object; use its reason and message when there is one.
  const json status = json::parse(response.body, nullptr, false);
  if (base::json_string(status, "kind") == "Status") {
    error.reason = string_or_empty(status, "reason");
    message = string_or_empty(status, "message");
  }
  error.message =
      fmt::format("{}: HTTP {}{}{}", what, response.status, error.reason.empty() ? "" : " " + error.reason,
                  message.empty() ? "" : ": " + message);
  return error;
}

KubeResult<Deployment> parse_deployment(const std::string& body) {
  const json object = json::parse(body, nullptr, false);
  if (base::json_string(object, "kind") != "Deployment")
    return std::unexpected(bad_response("deployment", "not a Deployment object"));
  auto deployment = deployment_from(object);
  if (deployment && deployment->name.empty())
    return std::unexpected(bad_response("deployment", "no metadata.name"));
  return deployment;
}

KubeResult<Scale> parse_scale(const std::string& body) {
  const json object = json::parse(body, nullptr, false);
  if (base::json_string(object, "kind") != "Scale")
    return std::unexpected(bad_response("scale", "not a Scale object"));
  const json& metadata = base::json_object(object, "metadata");
  const json& spec = base::json_object(object, "spec");
  const json& status = base::json_object(object, "status");
  Scale scale;
  scale.name = string_or_empty(metadata, "name");
  scale.namespace_ = string_or_empty(metadata, "namespace");
  scale.uid = string_or_empty(metadata, "uid");
  scale.resource_version = string_or_empty(metadata, "resourceVersion");
  // An omitted spec.replicas is zero (omitempty in the Go type).
  const auto replicas = replicas_or(spec, "replicas", 0);
  if (!replicas)
    return std::unexpected(bad_response(
        "scale",
        fmt::format("spec.replicas is not a replica count (an integer from 0 to {})", kMaxReplicas)));
  const auto status_replicas = replicas_or(status, "replicas", 0);
  if (!status_replicas)
    return std::unexpected(bad_response(
        "scale",
        fmt::format("status.replicas is not a replica count (an integer from 0 to {})", kMaxReplicas)));
  scale.replicas = *replicas;
  scale.status_replicas = *status_replicas;
  scale.selector = string_or_empty(status, "selector");
  if (scale.resource_version.empty())
    return std::unexpected(bad_response("scale", "no metadata.resourceVersion"));
  return scale;
}

KubeClient::KubeClient(net::HttpClientOptions options) : http_(std::move(options)) {}

KubeResult<Deployment> KubeClient::get_deployment(const std::string& ns, const std::string& name) {
  const std::string what = fmt::format("get deployment {}/{}", ns, name);
  auto response = http_.get(deployment_path(ns, name));
  if (!response) return std::unexpected(transport_error(response.error(), what));
  if (response->status != 200) return std::unexpected(error_from_response(*response, what));
  return parse_deployment(response->body);
}

KubeResult<std::vector<Deployment>> KubeClient::list_deployments_annotated(const std::string& ns,
                                                                           const std::string& key,
                                                                           const std::string& value) {
  const std::string base = ns.empty()
                               ? "/apis/apps/v1/deployments"
                               : fmt::format("/apis/apps/v1/namespaces/{}/deployments", net::url_encode(ns));
  const std::string what = fmt::format("list deployments in {}", ns.empty() ? "all namespaces" : ns);
  std::vector<Deployment> found;
  std::string continue_token;
  int pages = 0;
  do {
    if (++pages > kMaxListPages)
      return std::unexpected(
          bad_response(what, fmt::format("more than {} pages of {}: the continue token never ends",
                                         kMaxListPages, kListPageSize)));
    std::string path = fmt::format("{}?limit={}", base, kListPageSize);
    if (!continue_token.empty()) path += "&continue=" + net::url_encode(continue_token);
    auto response = http_.get(path);
    if (!response) return std::unexpected(transport_error(response.error(), what));
    if (response->status != 200) return std::unexpected(error_from_response(*response, what));
    const json list = json::parse(response->body, nullptr, false);
    if (base::json_string(list, "kind") != "DeploymentList" || !list.contains("items") ||
        !list["items"].is_array())
      return std::unexpected(bad_response(what, "not a DeploymentList"));
    for (const auto& item : list["items"]) {
      auto deployment = deployment_from(item);
      if (!deployment) return std::unexpected(deployment.error());
      const auto it = deployment->annotations.find(key);
      if (it != deployment->annotations.end() && it->second == value) found.push_back(std::move(*deployment));
    }
    continue_token = string_or_empty(base::json_object(list, "metadata"), "continue");
  } while (!continue_token.empty());
  return found;
}

KubeResult<Scale> KubeClient::get_scale(const std::string& ns, const std::string& name) {
  const std::string what = fmt::format("get scale of {}/{}", ns, name);
  auto response = http_.get(deployment_path(ns, name) + "/scale");
  if (!response) return std::unexpected(transport_error(response.error(), what));
  if (response->status != 200) return std::unexpected(error_from_response(*response, what));
  return parse_scale(response->body);
}

KubeResult<Scale> KubeClient::patch_scale(const std::string& ns, const std::string& name, int replicas,
                                          const std::string& resource_version) {
  const std::string what = fmt::format("patch scale of {}/{} to {}", ns, name, replicas);
  const json patch = {{"metadata", {{"resourceVersion", resource_version}}},
                      {"spec", {{"replicas", replicas}}}};
  auto response =
      http_.patch(deployment_path(ns, name) + "/scale", patch.dump(), "application/merge-patch+json");
  if (!response) return std::unexpected(transport_error(response.error(), what));
  if (response->status != 200) return std::unexpected(error_from_response(*response, what));
  return parse_scale(response->body);
}

KubeResult<void> KubeClient::create_event(const DeploymentEvent& event) {
  const std::string what = fmt::format("create event on {}/{}", event.namespace_, event.deployment);
  const std::string time = rfc3339(event.at);
  const auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(event.at.time_since_epoch()).count();
  json involved = {{"apiVersion", event.involved_api_version},
                   {"kind", event.involved_kind},
                   {"name", event.deployment},
                   {"namespace", event.namespace_}};
  if (!event.deployment_uid.empty()) involved["uid"] = event.deployment_uid;
  // Named as client-go's recorder names events: the object's name, a dot, the time in hex nanoseconds.
  const json body = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata",
       {{"name", fmt::format("{}.{:x}", event.deployment, nanos)}, {"namespace", event.namespace_}}},
      {"involvedObject", involved},
      {"reason", event.reason},
      {"message", event.message},
      {"type", event.type},
      {"source", {{"component", event.component}}},
      {"reportingComponent", event.component},
      {"firstTimestamp", time},
      {"lastTimestamp", time},
      {"count", 1}};
  auto response =
      http_.post(fmt::format("/api/v1/namespaces/{}/events", net::url_encode(event.namespace_)), body.dump());
  if (!response) return std::unexpected(transport_error(response.error(), what));
  if (response->status != 201 && response->status != 200)
    return std::unexpected(error_from_response(*response, what));
  return {};
}

}  // namespace maestro::kube
