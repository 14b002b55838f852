// The suggestion server's view of Kubernetes through the kube client: a deployment's spec.replicas,
// status.readyReplicas and annotations; for a MaestroAutoscaler, its spec.scaleTargetRef and
// spec.metrics.queries, and a target of another kind through its scale subresource and the pods its
// status.selector selects (as the HPA reads them).
#pragma once

#include "kube/client.hpp"
#include "services/suggestion_server/sources.hpp"

namespace maestro::suggestion_server {

class KubeDeploymentSource final : public DeploymentSource {
 public:
  // `client` must outlive this source.
  explicit KubeDeploymentSource(kube::KubeClient& client) : client_(client) {}
  Result<DeploymentInfo> get(const std::string& namespace_name, const std::string& name) override;
  Result<DeploymentInfo> get_autoscaled(const std::string& namespace_name, const std::string& target,
                                        const std::string& autoscaler) override;

 private:
  kube::KubeClient& client_;
};

}  // namespace maestro::suggestion_server
