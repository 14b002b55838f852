// The model server (`maestro serve model`): POST /predict answers the action of the policy it serves for one
// observation (DESIGN §2), with the probabilities and the model's version; /readyz is ready once a policy is
// loaded; /metrics adds actions by kind, the policy version and reloads to the server's request metrics. The
// policy is reloaded on SIGHUP and when its file changes on disk, without dropping a request.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>

#include "core/error.hpp"
#include "net/http_server.hpp"
#include "services/model_server/file_watcher.hpp"
#include "services/model_server/policy_slot.hpp"

namespace maestro::model_server {

struct ModelServerOptions {
  std::filesystem::path policy_file;
  PolicyLoader loader;
  net::HttpServerOptions http{.max_body_bytes = 64 * 1024};  // five numbers fit in far less
  std::optional<std::chrono::milliseconds> watch_interval = std::chrono::seconds(1);  // nothing: no watching
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
  void predict(const net::HttpRequest& request, net::HttpResponse& response);
  void begin_watching();

  ModelServerOptions options_;
  PolicySlot slot_;
  net::HttpServer http_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<FileWatcher> watcher_;
};

}  // namespace maestro::model_server
