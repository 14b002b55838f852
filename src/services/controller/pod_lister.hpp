// The pods of a deployment as the HPA's pod lister sees them (core/v1 Pods, listed with the scale's
// selector): phase, deletion, the Ready condition and when it last changed, the start time and the CPU
// request. The HPA source (hpa_source.hpp) reads them through PodLister; tests substitute their own.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kube/client.hpp"
#include "kube/error.hpp"

namespace maestro::controller {

struct PodStatus {
  std::string name;
  std::string phase = "Running";  // status.phase: Pending, Running, Succeeded, Failed
  bool deleting = false;          // metadata.deletionTimestamp set
  std::optional<bool> ready;      // the Ready condition's status; nullopt = no such condition
  // The Ready condition's lastTransitionTime; nullopt = not given (the local cluster's API omits it).
  std::optional<std::chrono::system_clock::time_point> ready_transition;
  std::optional<std::chrono::system_clock::time_point> start_time;  // status.startTime
  // CPU request summed over the containers, millicores (kube::pod_cpu_request_m).
  std::optional<std::int64_t> cpu_request_m;
};

class PodLister {
 public:
  virtual ~PodLister() = default;
  // Pods in `namespace_` matching the label selector `selector` ("app=web").
  virtual kube::KubeResult<std::vector<PodStatus>> list_pods(const std::string& namespace_,
                                                             const std::string& selector) = 0;
};

// The PodLister of a real API server: GET /api/v1/namespaces/NS/pods?labelSelector=….
class KubePodLister final : public PodLister {
 public:
  // `kube` must outlive the lister.
  explicit KubePodLister(kube::KubeClient& kube) : kube_(kube) {}
  kube::KubeResult<std::vector<PodStatus>> list_pods(const std::string& namespace_,
                                                     const std::string& selector) override;

 private:
  kube::KubeClient& kube_;
};

// The pods of a PodList's JSON; exposed for tests.
kube::KubeResult<std::vector<PodStatus>> parse_pod_list(const std::string& json);

// An RFC 3339 time as Kubernetes writes it ("2026-11-27T18:20:45Z", fractions and offsets allowed).
std::optional<std::chrono::system_clock::time_point> parse_kube_time(const std::string& text);

}  // namespace maestro::controller
