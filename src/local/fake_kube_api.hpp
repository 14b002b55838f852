// A faithful test double of the Kubernetes API subset MAESTRO uses, served over HTTP on loopback: apps/v1
// Deployments (get, list with limit/continue), their autoscaling/v1 `scale` subresource (get, merge-patch)
// and core/v1 Events (create), on the real paths, with the real JSON shapes and v1 Status errors. It keeps a
// resourceVersion that grows on every write (a patch carrying a stale one is refused 409 Conflict), checks
// the bearer token (401 Unauthorized without a valid one), and can be told to fail: 409, 404, 403, 410, 500
// or hang, for the next N matching requests or until cleared. Every scale write and event is recorded.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"

namespace maestro::local {

struct FakeDeployment {
  std::string namespace_ = "default";
  std::string name;
  int replicas = 1;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

enum class KubeFault { kConflict, kNotFound, kForbidden, kGone, kServerError, kHang };

struct FaultRule {
  KubeFault fault = KubeFault::kServerError;
  std::optional<int> count;   // the next N matching requests; none: until cleared
  std::string method;         // "" any, else "GET", "PATCH", "POST"
  std::string path_contains;  // "" any, e.g. "/scale" or "/events"

  // The next `count` requests matching `method` and `path_contains`.
  static FaultRule next(int count, KubeFault fault, std::string method = "", std::string path_contains = "");
  // Every matching request until clear_faults().
  static FaultRule until_cleared(KubeFault fault, std::string method = "", std::string path_contains = "");
};

// A deployment in `ns` with `replicas` and no labels or annotations.
FakeDeployment fake_deployment(std::string ns, std::string name, int replicas = 1);

// A write through the scale subresource that the API accepted.
struct ScaleWrite {
  std::string namespace_;
  std::string name;
  int from = 0;
  int to = 0;
  std::string resource_version;  // after the write
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

// The answer to one request (exposed so that the HTTP front end stays a thin adapter).
struct FakeResponse {
  int status = 200;
  std::string body;
};

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

  // Creates or replaces a deployment (a write: bumps the resourceVersion).
  void put_deployment(const FakeDeployment& deployment);
  void remove_deployment(const std::string& ns, const std::string& name);
  // Someone else scales the deployment (kubectl, a rollout): a write the controller did not make.
  void set_replicas(const std::string& ns, const std::string& name, int replicas);
  std::optional<int> replicas(const std::string& ns, const std::string& name) const;
  std::optional<std::string> resource_version(const std::string& ns, const std::string& name) const;

  void inject(FaultRule rule);
  void clear_faults();  // also releases hanging requests

  std::vector<ScaleWrite> scale_writes() const;
  std::vector<RecordedEvent> events() const;
  std::uint64_t requests() const;

  // The whole API as a function of one request.
  FakeResponse handle(const std::string& method, const std::string& path, const std::string& query,
                      const std::string& authorization, const std::string& content_type,
                      const std::string& body);

 private:
  struct State;
  struct Server;
  std::unique_ptr<State> state_;
  std::unique_ptr<Server> server_;
};

}  // namespace maestro::local
