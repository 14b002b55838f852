// What the controller needs of the Kubernetes API for MaestroAutoscaler resources: list them, learn which
// workloads an HPA or a KEDA ScaledObject already scales (so as never to fight one), and write their status.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/client.hpp"

namespace maestro::controller {

class AutoscalerClient {
 public:
  virtual ~AutoscalerClient() = default;
  // MaestroAutoscalers in `namespace_` ("" all) as the API answers them; none if the CRD is not installed.
  virtual kube::KubeResult<std::vector<nlohmann::json>> list_autoscalers(const std::string& namespace_) = 0;
  // "namespace/Kind/name" of each workload another autoscaler targets → who ("HorizontalPodAutoscaler
  // shop/web"); kinds whose API is not served (KEDA not installed) count as none.
  virtual kube::KubeResult<std::map<std::string, std::string>> other_autoscalers(
      const std::string& namespace_) = 0;
  // Writes `status` through the status subresource with the resourceVersion just read, re-reading and
  // retrying up to `conflict_retries` times on 409.
  virtual kube::KubeResult<void> write_status(const std::string& namespace_, const std::string& name,
                                              const nlohmann::json& status, int conflict_retries) = 0;
};

// The AutoscalerClient of a real API server.
class KubeAutoscalerClient final : public AutoscalerClient {
 public:
  // `kube` must outlive this client.
  explicit KubeAutoscalerClient(kube::KubeClient& kube) : kube_(kube) {}
  kube::KubeResult<std::vector<nlohmann::json>> list_autoscalers(const std::string& namespace_) override;
  kube::KubeResult<std::map<std::string, std::string>> other_autoscalers(
      const std::string& namespace_) override;
  kube::KubeResult<void> write_status(const std::string& namespace_, const std::string& name,
                                      const nlohmann::json& status, int conflict_retries) override;

 private:
  kube::KubeClient& kube_;
};

}  // namespace maestro::controller
