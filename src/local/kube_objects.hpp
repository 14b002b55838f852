// The objects the local Kubernetes API stores — apps/v1 Deployments and StatefulSets (with their
// autoscaling/v1 Scale view) and core/v1 Events — and the store that holds them under one lock with one
// revision counter, as etcd keeps one revision for every write. The JSON renderers give the shapes the real
// API server answers with.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace maestro::local {

// A workload with a scale subresource: a Deployment, or (kind "StatefulSet") a StatefulSet, which the local
// API stores and scales alike (its pods are not run).
struct FakeDeployment {
  std::string kind = "Deployment";
  std::string namespace_ = "default";
  std::string name;
  int replicas = 1;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  double cpu_limit_cores = 0;  // its pod template's container's limits.cpu (and so its request); 0: none
};

// A deployment in `ns` with `replicas` and no labels or annotations.
FakeDeployment fake_deployment(std::string ns, std::string name, int replicas = 1);

// What the pods of a deployment are doing, as the deployment controller reports it in .status.
struct DeploymentStatus {
  int replicas = 0;  // pods that exist (starting, ready or draining)
  int ready_replicas = 0;
  int available_replicas = 0;
  bool operator==(const DeploymentStatus&) const = default;
};

// A write through the scale subresource that the API accepted.
struct ScaleWrite {
  std::string namespace_;
  std::string name;
  int from = 0;
  int to = 0;
  std::string resource_version;  // after the write
};

// A pod as the local cluster runs it (a process), reported read-only through core/v1 pods.
struct PodObject {
  std::string namespace_;
  std::string name;
  std::string deployment;
  std::string phase = "Pending";  // "Pending" until its process runs, then "Running"
  bool ready = false;
  bool terminating = false;
  std::uint16_t port = 0;
  double cpu_limit_cores = 0;  // 0: none
  std::uint64_t memory_limit_bytes = 0;
  std::chrono::system_clock::time_point created;
  bool operator==(const PodObject&) const = default;

  nlohmann::json to_json() const;
};

struct RecordedEvent {
  std::string namespace_;
  std::string involved_name;
  std::string involved_kind;
  std::string reason;
  std::string message;
  std::string type;
  std::string component;
  std::string body;  // the JSON as posted
};

struct StoredDeployment {
  FakeDeployment spec;
  std::string uid;
  std::uint64_t resource_version = 0;
  std::int64_t generation = 1;
  std::chrono::system_clock::time_point created;
  std::optional<DeploymentStatus> status;  // none: every replica ready at once (a double without a kubelet)

  DeploymentStatus current_status() const;
  nlohmann::json to_json() const;
  nlohmann::json scale_json() const;
};

using ObjectKey = std::pair<std::string, std::string>;                      // namespace, name
using CustomObjectKey = std::tuple<std::string, std::string, std::string>;  // resource.group, namespace, name

// A change to a custom object, as a watch reports it.
struct CustomObjectChange {
  std::uint64_t revision = 0;
  CustomObjectKey key;
  std::string type;  // ADDED, MODIFIED, DELETED
  nlohmann::json object;
};

struct KubeStore {
  mutable std::mutex mutex;
  std::condition_variable written;  // notified after every write
  std::uint64_t revision = 1000;
  std::uint64_t next_uid = 1;
  std::map<ObjectKey, StoredDeployment> deployments;
  std::map<ObjectKey, StoredDeployment> statefulsets;
  std::vector<ScaleWrite> scale_writes;
  std::vector<RecordedEvent> events;          // as posted, in order
  std::vector<nlohmann::json> event_objects;  // as stored (what a list returns)
  std::set<ObjectKey> event_names;
  std::map<ObjectKey, PodObject> pods;
  std::map<ObjectKey, std::uint64_t> pod_versions;           // each pod's resourceVersion
  std::map<CustomObjectKey, nlohmann::json> custom_objects;  // as stored (kube_custom_resources.cpp)
  // The latest changes to them, oldest first, for watches; a watch from before the oldest kept is 410 Gone.
  std::deque<CustomObjectChange> custom_changes;
  std::uint64_t custom_changes_dropped_through = 0;  // the revision of the newest change no longer kept
  bool stopping = false;                             // the API is stopping: watches end

  // The next resourceVersion; call with the lock held, then notify `written` once it is released.
  std::uint64_t next_revision() { return ++revision; }
  std::string new_uid(int kind_digit);
  // The workloads of `resource` ("deployments" or "statefulsets").
  std::map<ObjectKey, StoredDeployment>& workloads(const std::string& resource) {
    return resource == "statefulsets" ? statefulsets : deployments;
  }
};

// The plural a workload's kind is served under: "deployments", "statefulsets".
std::string workload_resource(const std::string& kind);

// RFC 3339 in UTC with second precision, as metav1.Time.
std::string kube_time(std::chrono::system_clock::time_point at);

}  // namespace maestro::local
