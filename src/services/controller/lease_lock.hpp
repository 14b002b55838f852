// The Lease the controller replicas elect a leader with, in the Kubernetes API: a coordination.k8s.io/v1
// Lease read with GET, created with POST and updated with PUT carrying the resourceVersion last read (409 if
// another replica wrote in between). Its times are MicroTime ("2006-01-02T15:04:05.000000Z").
#pragma once

#include <string>

#include "kube/client.hpp"
#include "services/controller/leader_election.hpp"

namespace maestro::controller {

class KubeLeaseLock final : public LeaseLock {
 public:
  // `kube` must outlive the lock.
  KubeLeaseLock(kube::KubeClient& kube, std::string namespace_, std::string name);
  kube::KubeResult<LeaseRecord> get() override;
  kube::KubeResult<void> create(const LeaseRecord& record) override;
  kube::KubeResult<void> update(const LeaseRecord& record) override;

 private:
  kube::KubeClient& kube_;
  std::string namespace_;
  std::string name_;
  std::string resource_version_;  // of the last read or write
};

// MicroTime as the API writes it, and read back (fractions of any length, "Z" or an offset).
std::string micro_time(std::chrono::system_clock::time_point at);
Result<std::chrono::system_clock::time_point> parse_micro_time(const std::string& text);

}  // namespace maestro::controller
