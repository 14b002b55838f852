#include "services/suggestion_server/kube_deployment_source.hpp"

namespace maestro::suggestion_server {

Result<DeploymentInfo> KubeDeploymentSource::get(const std::string& namespace_name, const std::string& name) {
  auto deployment = client_.get_deployment(namespace_name, name);
  if (!deployment)
    return fail("get deployment {}/{}: {} ({})", namespace_name, name, deployment.error().message,
                kube::kube_error_kind_name(deployment.error().kind));
  return DeploymentInfo{.replicas = deployment->replicas,
                        .ready_replicas = deployment->ready_replicas,
                        .annotations = deployment->annotations};
}

}  // namespace maestro::suggestion_server
