// Resources MAESTRO reads and writes as JSON through the API's generic REST paths: its own MaestroAutoscalers
// (autoscaling.maestro.io/v1alpha1) with their status subresource, the autoscalers that may target the
// same workloads — autoscaling/v2 HorizontalPodAutoscalers and KEDA's ScaledObjects (keda.sh/v1alpha1) — and
// the `scale` subresource of any workload a MaestroAutoscaler may target (StatefulSets, ReplicaSets, custom
// resources), found as the HPA finds it: by kind, through the API's discovery.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/client.hpp"

namespace maestro::kube {

struct ResourceType {
  std::string group;
  std::string version;
  std::string resource;   // plural, as in the path
  std::string list_kind;  // the kind a list answers with
};

inline const ResourceType kMaestroAutoscalers{"autoscaling.maestro.io", "v1alpha1", "maestroautoscalers",
                                              "MaestroAutoscalerList"};
inline const ResourceType kHorizontalPodAutoscalers{"autoscaling", "v2", "horizontalpodautoscalers",
                                                    "HorizontalPodAutoscalerList"};
inline const ResourceType kScaledObjects{"keda.sh", "v1alpha1", "scaledobjects", "ScaledObjectList"};
inline const ResourceType kStatefulSets{"apps", "v1", "statefulsets", "StatefulSetList"};
inline const ResourceType kReplicaSets{"apps", "v1", "replicasets", "ReplicaSetList"};

// The REST path of `type`'s objects in `namespace_` ("" all namespaces), e.g.
// "/apis/autoscaling.maestro.io/v1alpha1/namespaces/shop/maestroautoscalers".
std::string collection_path(const ResourceType& type, const std::string& namespace_);

struct ObjectList {
  std::vector<nlohmann::json> items;
  std::string resource_version;  // the list's, for a watch to start from
};

// Every object of `type` in `namespace_` ("" all namespaces), paging with limit/continue. A type the server
// does not serve (its CRD is not installed) is kNotFound.
KubeResult<ObjectList> list_objects(KubeClient& kube, const ResourceType& type,
                                    const std::string& namespace_);

KubeResult<nlohmann::json> get_object(KubeClient& kube, const ResourceType& type,
                                      const std::string& namespace_, const std::string& name);

// Replaces .status through the status subresource with a merge patch that carries `resource_version`, so
// that a write based on a stale read fails with kConflict; answers the object as stored.
KubeResult<nlohmann::json> patch_status(KubeClient& kube, const ResourceType& type,
                                        const std::string& namespace_, const std::string& name,
                                        const nlohmann::json& status, const std::string& resource_version);

// The resource of `kind` in `api_version` ("apps/v1", "example.com/v1"), if it has a scale subresource:
// apps/v1 StatefulSets and ReplicaSets directly (Deployments are KubeClient's), any other kind through the
// group version's discovery document (GET /apis/GROUP/VERSION, which every authenticated client may read).
// kNotFound: the group version is not served or has no such kind; kInvalid: the kind has no scale.
KubeResult<ResourceType> scalable_resource(KubeClient& kube, const std::string& api_version,
                                           const std::string& kind);

// The scale subresource of the object `name` of `type` (a workload other than a Deployment): get, and
// merge-patch spec.replicas carrying `resource_version`, as KubeClient does for Deployments.
KubeResult<Scale> get_workload_scale(KubeClient& kube, const ResourceType& type,
                                     const std::string& namespace_, const std::string& name);
KubeResult<Scale> patch_workload_scale(KubeClient& kube, const ResourceType& type,
                                       const std::string& namespace_, const std::string& name, int replicas,
                                       const std::string& resource_version);

}  // namespace maestro::kube
