#include "local/kube_status.hpp"

#include <fmt/format.h>

namespace maestro::local {

using nlohmann::json;

KubeResponse json_answer(int status, const json& body) {
  return {status, body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

KubeResponse status_response(int code, const std::string& reason, const std::string& message,
                             const json& details) {
  json status = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
                 {"status", "Failure"}, {"message", message}, {"reason", reason},
                 {"code", code}};
  if (!details.is_null()) status["details"] = details;
  return json_answer(code, status);
}

json deployment_details(const std::string& name, const std::string& resource) {
  return {{"name", name}, {"group", "apps"}, {"kind", resource}};
}

KubeResponse deployment_not_found(const std::string& name, const std::string& resource) {
  return status_response(404, "NotFound", fmt::format("{}.apps \"{}\" not found", resource, name),
                         deployment_details(name, resource));
}

KubeResponse deployment_conflict(const std::string& name, const std::string& resource) {
  return status_response(
      409, "Conflict",
      fmt::format("Operation cannot be fulfilled on {}.apps \"{}\": the object has been "
                  "modified; please apply your changes to the latest version and try again",
                  resource, name),
      deployment_details(name, resource));
}

KubeResponse resource_not_found() {
  return status_response(404, "NotFound", "the server could not find the requested resource");
}

KubeResponse method_not_allowed() {
  return status_response(405, "MethodNotAllowed",
                         "the server does not allow this method on the requested resource");
}

}  // namespace maestro::local
