// Requests to the local Kubernetes API and its answers: the request as the handlers see it, and the
// meta/v1 Status errors the API server answers with (the shapes client-go and kubectl decode).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace maestro::local {

struct KubeRequest {
  std::string method;
  std::string path;
  std::string query;
  std::string authorization;
  std::string content_type;
  std::string accept;
  std::string body;
};

struct KubeResponse {
  int status = 200;
  std::string body;
};

KubeResponse json_answer(int status, const nlohmann::json& body);
KubeResponse status_response(int code, const std::string& reason, const std::string& message,
                             const nlohmann::json& details = nullptr);
// {"name": NAME, "group": "apps", "kind": "deployments"}: what a deployment error is about.
// `resource`: the workload's plural ("deployments", "statefulsets").
nlohmann::json deployment_details(const std::string& name, const std::string& resource = "deployments");
KubeResponse deployment_not_found(const std::string& name, const std::string& resource = "deployments");
KubeResponse deployment_conflict(const std::string& name, const std::string& resource = "deployments");
KubeResponse resource_not_found();
KubeResponse method_not_allowed();

}  // namespace maestro::local
