#include "local/fake_kube_api.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "local/kube_handlers.hpp"
#include "local/kube_path.hpp"
#include "net/http_server.hpp"

namespace maestro::local {

using nlohmann::json;

struct FakeKubeApi::Server {
  explicit Server(int threads) : http(options(threads)) {}
  static net::HttpServerOptions options(int threads) {
    net::HttpServerOptions options;
    options.io_threads = 1;
    options.handler_threads = std::max(1, threads);  // handlers block while a hang fault holds them
    options.drain_timeout = std::chrono::milliseconds(2000);
    return options;
  }
  net::HttpServer http;
  int port = 0;
  bool running = false;
};

FakeKubeApi::FakeKubeApi(std::string token, int server_threads)
    : store_(std::make_unique<KubeStore>()),
      token_(std::move(token)),
      server_(std::make_unique<Server>(server_threads)) {
  server_->http.fallback([this](const net::HttpRequest& request, net::HttpResponse& response) {
    const auto header = [&](std::string_view name) { return std::string(request.header(name).value_or("")); };
    const KubeResponse answer = handle({std::string(request.method), std::string(request.path),
                                        std::string(request.query), header("Authorization"),
                                        header("Content-Type"), header("Accept"), std::string(request.body)});
    response.status = answer.status;
    response.content_type = "application/json";
    response.body = answer.body;
  });
}

FakeKubeApi::~FakeKubeApi() {
  stop();
}

Result<int> FakeKubeApi::start(const std::string& host, int port) {
  {
    std::lock_guard lock(store_->mutex);
    store_->stopping = false;
  }
  faults_.start();
  auto bound = server_->http.listen(fmt::format("{}:{}", host, port));
  if (!bound) return fail("Kubernetes API: {}", bound.error().message);
  server_->port = *bound;
  server_->http.start();
  server_->running = true;
  return server_->port;
}

void FakeKubeApi::stop() {
  faults_.stop();
  {
    std::lock_guard lock(store_->mutex);
    store_->stopping = true;  // watches waiting for a change end now
  }
  store_->written.notify_all();
  if (server_->running) server_->http.stop();
  server_->running = false;
}

std::string FakeKubeApi::url() const {
  return fmt::format("http://127.0.0.1:{}", server_->port);
}

void FakeKubeApi::set_token(std::string token) {
  std::lock_guard lock(store_->mutex);
  token_ = std::move(token);
}

namespace {

// The Deployment `ns`/`name`, or else the StatefulSet; call with the store's lock held.
StoredDeployment* find_workload(KubeStore& store, const std::string& ns, const std::string& name) {
  for (auto* workloads : {&store.deployments, &store.statefulsets})
    if (const auto it = workloads->find({ns, name}); it != workloads->end()) return &it->second;
  return nullptr;
}

}  // namespace

void FakeKubeApi::put_deployment(const FakeDeployment& deployment) {
  {
    std::lock_guard lock(store_->mutex);
    auto& stored =
        store_->workloads(workload_resource(deployment.kind))[{deployment.namespace_, deployment.name}];
    if (stored.uid.empty()) {
      stored.uid = store_->new_uid(8);
      stored.created = std::chrono::system_clock::now();
    } else {
      ++stored.generation;
    }
    stored.spec = deployment;
    stored.resource_version = store_->next_revision();
  }
  store_->written.notify_all();
}

void FakeKubeApi::remove_deployment(const std::string& ns, const std::string& name) {
  {
    std::lock_guard lock(store_->mutex);
    store_->deployments.erase({ns, name});
    store_->next_revision();
  }
  store_->written.notify_all();
}

void FakeKubeApi::set_replicas(const std::string& ns, const std::string& name, int replicas) {
  {
    std::lock_guard lock(store_->mutex);
    auto* stored = find_workload(*store_, ns, name);
    if (!stored) return;
    stored->spec.replicas = replicas;
    stored->resource_version = store_->next_revision();
  }
  store_->written.notify_all();
}

std::optional<int> FakeKubeApi::replicas(const std::string& ns, const std::string& name) const {
  const auto found = deployment(ns, name);
  if (!found) return std::nullopt;
  return found->replicas;
}

std::optional<std::string> FakeKubeApi::resource_version(const std::string& ns,
                                                         const std::string& name) const {
  std::lock_guard lock(store_->mutex);
  const auto* stored = find_workload(*store_, ns, name);
  if (!stored) return std::nullopt;
  return std::to_string(stored->resource_version);
}

std::optional<FakeDeployment> FakeKubeApi::deployment(const std::string& ns, const std::string& name) const {
  std::lock_guard lock(store_->mutex);
  const auto* stored = find_workload(*store_, ns, name);
  if (!stored) return std::nullopt;
  return stored->spec;
}

void FakeKubeApi::set_status(const std::string& ns, const std::string& name, const DeploymentStatus& status) {
  {
    std::lock_guard lock(store_->mutex);
    const auto it = store_->deployments.find({ns, name});
    if (it == store_->deployments.end() || it->second.status == status) return;
    it->second.status = status;
    it->second.resource_version = store_->next_revision();
  }
  store_->written.notify_all();
}

void FakeKubeApi::emit_event(const std::string& ns, const std::string& deployment, const std::string& reason,
                             const std::string& message, const std::string& component) {
  {
    std::lock_guard lock(store_->mutex);
    const std::string now = kube_time(std::chrono::system_clock::now());
    const std::uint64_t revision = store_->next_revision();
    const std::string name = fmt::format("{}.{:x}", deployment, revision);
    store_->event_names.insert({ns, name});
    store_->event_objects.push_back(
        {{"kind", "Event"},
         {"apiVersion", "v1"},
         {"metadata",
          {{"name", name},
           {"namespace", ns},
           {"uid", store_->new_uid(9)},
           {"resourceVersion", std::to_string(revision)},
           {"creationTimestamp", now}}},
         {"involvedObject",
          {{"kind", "Deployment"}, {"namespace", ns}, {"name", deployment}, {"apiVersion", "apps/v1"}}},
         {"reason", reason},
         {"message", message},
         {"source", {{"component", component}}},
         {"firstTimestamp", now},
         {"lastTimestamp", now},
         {"count", 1},
         {"type", "Normal"}});
  }
  store_->written.notify_all();
}

void FakeKubeApi::set_pods(const std::string& ns, const std::string& deployment,
                           const std::vector<PodObject>& pods) {
  {
    std::lock_guard lock(store_->mutex);
    bool changed = false;
    for (auto it = store_->pods.begin(); it != store_->pods.end();) {
      const bool listed =
          std::ranges::any_of(pods, [&](const PodObject& pod) { return pod.name == it->first.second; });
      if (it->first.first == ns && it->second.deployment == deployment && !listed) {
        store_->pod_versions.erase(it->first);
        it = store_->pods.erase(it);
        changed = true;
      } else {
        ++it;
      }
    }
    for (const auto& pod : pods) {
      auto& stored = store_->pods[{ns, pod.name}];
      if (stored == pod) continue;
      stored = pod;
      store_->pod_versions[{ns, pod.name}] = store_->next_revision();
      changed = true;
    }
    if (!changed) return;
  }
  store_->written.notify_all();
}

std::uint64_t FakeKubeApi::revision() const {
  std::lock_guard lock(store_->mutex);
  return store_->revision;
}

std::uint64_t FakeKubeApi::wait_for_write(std::uint64_t after, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(store_->mutex);
  store_->written.wait_for(lock, timeout, [&] { return store_->revision > after; });
  return store_->revision;
}

void FakeKubeApi::inject(FaultRule rule) {
  faults_.inject(std::move(rule));
}

void FakeKubeApi::clear_faults() {
  faults_.clear();
}

std::vector<ScaleWrite> FakeKubeApi::scale_writes() const {
  std::lock_guard lock(store_->mutex);
  return store_->scale_writes;
}

std::vector<RecordedEvent> FakeKubeApi::events() const {
  std::lock_guard lock(store_->mutex);
  return store_->events;
}

std::uint64_t FakeKubeApi::requests() const {
  return requests_.load();
}

KubeResponse FakeKubeApi::handle(const KubeRequest& request) {
  requests_.fetch_add(1);
  {
    std::lock_guard lock(store_->mutex);
    if (!token_.empty() && request.authorization != "Bearer " + token_)
      return status_response(401, "Unauthorized", "Unauthorized");
  }
  const KubePath path = parse_kube_path(request.path);
  if (path.kind == KubePathKind::kUnknown) return resource_not_found();
  if (path.kind != KubePathKind::kResource) {
    if (request.method != "GET") return method_not_allowed();
    return handle_discovery(path);
  }
  if (!serves_resource(path)) return resource_not_found();
  if (auto injected = faults_.apply(request, path)) return *injected;
  if (path.resource == "events") return handle_events(*store_, request, path);
  if (path.resource == "pods") return handle_pods(*store_, request, path);
  if (serves_custom_resource(path)) return handle_custom_resources(*store_, request, path);
  return handle_deployments(*store_, request, path);
}

}  // namespace maestro::local
