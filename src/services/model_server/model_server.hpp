// The model server (`maestro serve model`): POST /predict answers the action of the policy it serves for one
// observation (DESIGN §2) — its index, name, the replica change it means, the replicas it was decided for and
// the replicas it asks for — with the probabilities and the model's version, and refuses (400, naming it) a
// request that lacks what the policy's feature set needs; GET /policy says what that is (feature set,
// whether "features" must be sent, the action set); /readyz is ready once a policy is loaded; /metrics adds
// actions by name, the policy version and reloads to the server's request metrics. The policy is reloaded on
// SIGHUP and when its file changes on disk, without dropping a request. docs/api.md has the JSON.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "net/http_server.hpp"
#include "services/model_server/file_watcher.hpp"
#include "services/model_server/policy_slot.hpp"

namespace maestro::model_server {

struct ModelServerOptions {
  std::filesystem::path policy_file;
  PolicyLoader loader;
  net::HttpServerOptions http{.max_body_bytes = 64 * 1024};  // five numbers and the features fit in far less
  std::optional<std::chrono::milliseconds> watch_interval = std::chrono::seconds(1);  // nothing: no watching
};

// The answer to POST /predict (and `maestro predict`) as JSON text: the action's index and name, the
// probabilities, the model's version, the action set, the replica change the action means, the replicas it
// was decided for and the replicas it asks for (core::replicas_after, before any bounds) — keys in
// alphabetical order, probabilities as the shortest text that reads back the same double. A utilisation
// target's change is answered as the pods it comes to for those replicas and that CPU, so that whoever
// applies it needs no CPU figures (and holds if the replicas have changed since). What one policy's answers
// share (names, version, changes) is serialised once, when it is built; write() adds the numbers, without
// allocating once `out` has grown to an answer's size.
class PredictionJson {
 public:
  PredictionJson(const core::ActionSet& actions, const std::string& model_version);
  // Replaces `out` with the answer `answer` (its action must be in the set) decided for `replicas` and, for a
  // utilisation target, `cpu` (without it, the target holds).
  void write(const PolicyAnswer& answer, double replicas, const std::optional<core::CpuBasis>& cpu,
             std::string& out) const;

 private:
  struct Action {
    core::ReplicaChange change;
    std::string after_index;  // ,"action_name":…,"action_set":…,"desired_replicas":
    std::string change_json;  // {"amount":…,"kind":…}; empty for a utilisation target (resolved per answer)
  };
  std::vector<Action> actions_;
  std::string after_desired_;  // ,"model_version":…,"probabilities":[
};

class ModelServer {
 public:
  explicit ModelServer(ModelServerOptions options);
  ~ModelServer();

  // Loads the policy; a server that cannot load its policy at start does not start.
  Result<void> load();
  // Loads the policy file again; on failure the old policy stays (and the failure is counted).
  Result<void> reload();

  // Binds, then serves on background threads (start) or until stopped or SIGTERM/SIGINT (run).
  Result<std::uint16_t> listen(std::string_view address);
  void start();
  void run();
  void stop();

  net::HttpServer& http() { return http_; }
  std::shared_ptr<const ServedPolicy> policy() const { return slot_.current(); }

 private:
  struct Metrics;
  struct Serving;
  void predict(const net::HttpRequest& request, net::HttpResponse& response);
  void describe(net::HttpResponse& response);
  void begin_watching();

  ModelServerOptions options_;
  PolicySlot slot_;
  net::HttpServer http_;
  std::unique_ptr<Metrics> metrics_;
  // The policy being served with what its answers need, swapped with it on reload.
  std::atomic<std::shared_ptr<const Serving>> serving_;
  std::unique_ptr<FileWatcher> watcher_;
};

}  // namespace maestro::model_server
