// The Kubernetes API subset MAESTRO and kubectl use, served over HTTP on loopback: the local cluster's API
// server and the tests' faithful double. apps/v1 Deployments and StatefulSets (get, list with labelSelector
// and limit/continue, patch), their autoscaling/v1 `scale` subresource (get, patch, put), core/v1 Events
// (create, list) and Pods (get, list: the local cluster's processes), MaestroAutoscalers,
// HorizontalPodAutoscalers and KEDA ScaledObjects (kube_custom_resources.cpp), /version and discovery, on the
// real paths with the real JSON shapes, Tables for kubectl and v1 Status errors. It keeps a resourceVersion
// that grows on every write (a write carrying a stale one is refused 409 Conflict), checks the bearer token
// (401 without a valid one; an empty token disables the check), and can be told to fail (kube_faults.hpp).
// Every scale write and posted event is recorded.
//
// Paths are parsed in kube_path, faults injected by kube_faults, each resource served by its handler
// (kube_handlers.hpp); this class owns the store and the HTTP front end.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "local/kube_faults.hpp"
#include "local/kube_objects.hpp"
#include "local/kube_status.hpp"

namespace maestro::local {

class FakeKubeApi {
 public:
  // Requests must carry "Authorization: Bearer <token>"; an empty token disables the check.
  explicit FakeKubeApi(std::string token = "test-token", int server_threads = 16);
  ~FakeKubeApi();
  FakeKubeApi(const FakeKubeApi&) = delete;
  FakeKubeApi& operator=(const FakeKubeApi&) = delete;

  // Serves on `host`:`port` (0 picks a free port) on background threads; returns the bound port.
  Result<int> start(const std::string& host = "127.0.0.1", int port = 0);
  void stop();
  std::string url() const;  // "http://127.0.0.1:PORT"

  // Accepts this token from now on (the old one is refused): a rotated service-account token.
  void set_token(std::string token);

  // Creates or replaces a deployment, or a StatefulSet if that is its kind (a write: bumps the
  // resourceVersion). The accessors below name a Deployment, or else the StatefulSet of that name.
  void put_deployment(const FakeDeployment& deployment);
  void remove_deployment(const std::string& ns, const std::string& name);
  // Someone else scales the deployment (kubectl, a rollout): a write the controller did not make.
  void set_replicas(const std::string& ns, const std::string& name, int replicas);
  std::optional<int> replicas(const std::string& ns, const std::string& name) const;
  std::optional<std::string> resource_version(const std::string& ns, const std::string& name) const;
  std::optional<FakeDeployment> deployment(const std::string& ns, const std::string& name) const;
  // What the deployment's pods are doing (the local cluster's kubelet reports it); a write only when it
  // changes. Until it is first set, every replica counts as ready.
  void set_status(const std::string& ns, const std::string& name, const DeploymentStatus& status);
  // The pods of a deployment as the cluster runs them (read-only to clients); replaces the previous set.
  void set_pods(const std::string& ns, const std::string& deployment, const std::vector<PodObject>& pods);
  // Records an event as a component of the cluster (not a client) does; it is listed, not in events().
  void emit_event(const std::string& ns, const std::string& deployment, const std::string& reason,
                  const std::string& message, const std::string& component);

  // The store's revision: it grows with every write.
  std::uint64_t revision() const;
  // Waits until the revision passes `after` or `timeout` passes; returns the revision.
  std::uint64_t wait_for_write(std::uint64_t after, std::chrono::milliseconds timeout) const;

  void inject(FaultRule rule);
  void clear_faults();  // also releases hanging requests

  std::vector<ScaleWrite> scale_writes() const;
  std::vector<RecordedEvent> events() const;
  std::uint64_t requests() const;

  // The whole API as a function of one request.
  KubeResponse handle(const KubeRequest& request);

 private:
  struct Server;
  std::unique_ptr<KubeStore> store_;
  FaultInjector faults_;
  std::string token_;  // guarded by store_->mutex
  std::atomic<std::uint64_t> requests_{0};
  std::unique_ptr<Server> server_;
};

}  // namespace maestro::local
