#include "local/fake_kube_api.hpp"

#include "net/http_server.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <sstream>

namespace maestro::local {

namespace {

using nlohmann::json;

constexpr auto kMaxHang = std::chrono::seconds(60);
constexpr const char* kCreationTimestamp = "2026-01-01T00:00:00Z";

FakeResponse status_response(int code, const std::string& reason, const std::string& message,
                             const json& details = nullptr) {
  json status = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
                 {"status", "Failure"}, {"message", message}, {"reason", reason},
                 {"code", code}};
  if (!details.is_null()) status["details"] = details;
  return {code, status.dump()};
}

json deployment_details(const std::string& name) {
  return {{"name", name}, {"group", "apps"}, {"kind", "deployments"}};
}

FakeResponse not_found(const std::string& name) {
  return status_response(404, "NotFound", fmt::format("deployments.apps \"{}\" not found", name),
                         deployment_details(name));
}

FakeResponse conflict(const std::string& name) {
  return status_response(
      409, "Conflict",
      fmt::format("Operation cannot be fulfilled on deployments.apps \"{}\": the object has been "
                  "modified; please apply your changes to the latest version and try again",
                  name),
      deployment_details(name));
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream stream(path);
  std::string part;
  while (std::getline(stream, part, '/'))
    if (!part.empty()) parts.push_back(part);
  return parts;
}

std::string query_value(const std::string& query, const std::string& key) {
  std::stringstream stream(query);
  std::string pair;
  while (std::getline(stream, pair, '&')) {
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == key) return eq == std::string::npos ? "" : pair.substr(eq + 1);
  }
  return "";
}

}  // namespace

FaultRule FaultRule::next(int count, KubeFault fault, std::string method, std::string path_contains) {
  return FaultRule{fault, count, std::move(method), std::move(path_contains)};
}

FaultRule FaultRule::until_cleared(KubeFault fault, std::string method, std::string path_contains) {
  return FaultRule{fault, std::nullopt, std::move(method), std::move(path_contains)};
}

FakeDeployment fake_deployment(std::string ns, std::string name, int replicas) {
  FakeDeployment deployment;
  deployment.namespace_ = std::move(ns);
  deployment.name = std::move(name);
  deployment.replicas = replicas;
  return deployment;
}

struct FakeKubeApi::State {
  struct Stored {
    FakeDeployment spec;
    std::string uid;
    std::uint64_t resource_version = 0;
    std::int64_t generation = 1;
  };

  mutable std::mutex mutex;
  std::condition_variable faults_changed;
  std::uint64_t faults_epoch = 0;  // bumped by clear_faults() and stop() to release hanging requests
  bool stopping = false;
  std::string token;
  std::uint64_t revision = 1000;  // like etcd's revision: one counter for every write
  std::uint64_t next_uid = 1;
  std::map<std::pair<std::string, std::string>, Stored> deployments;
  std::vector<FaultRule> faults;
  std::vector<ScaleWrite> scale_writes;
  std::vector<RecordedEvent> events;
  std::set<std::pair<std::string, std::string>> event_names;
  std::atomic<std::uint64_t> requests{0};

  json deployment_json(const Stored& stored) const {
    const FakeDeployment& d = stored.spec;
    const json match = {{"app", d.name}};
    json metadata = {{"name", d.name},
                     {"namespace", d.namespace_},
                     {"uid", stored.uid},
                     {"resourceVersion", std::to_string(stored.resource_version)},
                     {"generation", stored.generation},
                     {"creationTimestamp", kCreationTimestamp}};
    if (!d.labels.empty()) metadata["labels"] = d.labels;
    if (!d.annotations.empty()) metadata["annotations"] = d.annotations;
    // Pods are taken to be ready at once: this double has no kubelet.
    return {
        {"kind", "Deployment"},
        {"apiVersion", "apps/v1"},
        {"metadata", metadata},
        {"spec",
         {{"replicas", d.replicas},
          {"selector", {{"matchLabels", match}}},
          {"template",
           {{"metadata", {{"labels", match}}},
            {"spec", {{"containers", json::array({{{"name", d.name}, {"image", "example/" + d.name}}})}}}}}}},
        {"status",
         {{"observedGeneration", stored.generation},
          {"replicas", d.replicas},
          {"updatedReplicas", d.replicas},
          {"readyReplicas", d.replicas},
          {"availableReplicas", d.replicas}}}};
  }

  json scale_json(const Stored& stored) const {
    const FakeDeployment& d = stored.spec;
    return {{"kind", "Scale"},
            {"apiVersion", "autoscaling/v1"},
            {"metadata",
             {{"name", d.name},
              {"namespace", d.namespace_},
              {"uid", stored.uid},
              {"resourceVersion", std::to_string(stored.resource_version)},
              {"creationTimestamp", kCreationTimestamp}}},
            {"spec", {{"replicas", d.replicas}}},
            {"status", {{"replicas", d.replicas}, {"selector", "app=" + d.name}}}};
  }
};

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
    : state_(std::make_unique<State>()), server_(std::make_unique<Server>(server_threads)) {
  state_->token = std::move(token);
  server_->http.fallback([this](const net::HttpRequest& request, net::HttpResponse& response) {
    const FakeResponse answer =
        handle(std::string(request.method), std::string(request.path), std::string(request.query),
               std::string(request.header("Authorization").value_or("")),
               std::string(request.header("Content-Type").value_or("")), std::string(request.body));
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
    std::lock_guard lock(state_->mutex);
    state_->stopping = false;
  }
  auto bound = server_->http.listen(fmt::format("{}:{}", host, port));
  if (!bound) return fail("fake Kubernetes API: {}", bound.error().message);
  server_->port = *bound;
  server_->http.start();
  server_->running = true;
  return server_->port;
}

void FakeKubeApi::stop() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    ++state_->faults_epoch;
  }
  state_->faults_changed.notify_all();
  if (server_->running) server_->http.stop();
  server_->running = false;
}

std::string FakeKubeApi::url() const {
  return fmt::format("http://127.0.0.1:{}", server_->port);
}

void FakeKubeApi::set_token(std::string token) {
  std::lock_guard lock(state_->mutex);
  state_->token = std::move(token);
}

void FakeKubeApi::put_deployment(const FakeDeployment& deployment) {
  std::lock_guard lock(state_->mutex);
  auto& stored = state_->deployments[{deployment.namespace_, deployment.name}];
  if (stored.uid.empty())
    stored.uid = fmt::format("00000000-0000-4000-8000-{:012d}", state_->next_uid++);
  else
    ++stored.generation;
  stored.spec = deployment;
  stored.resource_version = ++state_->revision;
}

void FakeKubeApi::remove_deployment(const std::string& ns, const std::string& name) {
  std::lock_guard lock(state_->mutex);
  state_->deployments.erase({ns, name});
  ++state_->revision;
}

void FakeKubeApi::set_replicas(const std::string& ns, const std::string& name, int replicas) {
  std::lock_guard lock(state_->mutex);
  const auto it = state_->deployments.find({ns, name});
  if (it == state_->deployments.end()) return;
  it->second.spec.replicas = replicas;
  it->second.resource_version = ++state_->revision;
}

std::optional<int> FakeKubeApi::replicas(const std::string& ns, const std::string& name) const {
  std::lock_guard lock(state_->mutex);
  const auto it = state_->deployments.find({ns, name});
  if (it == state_->deployments.end()) return std::nullopt;
  return it->second.spec.replicas;
}

std::optional<std::string> FakeKubeApi::resource_version(const std::string& ns,
                                                         const std::string& name) const {
  std::lock_guard lock(state_->mutex);
  const auto it = state_->deployments.find({ns, name});
  if (it == state_->deployments.end()) return std::nullopt;
  return std::to_string(it->second.resource_version);
}

void FakeKubeApi::inject(FaultRule rule) {
  std::lock_guard lock(state_->mutex);
  state_->faults.push_back(std::move(rule));
}

void FakeKubeApi::clear_faults() {
  {
    std::lock_guard lock(state_->mutex);
    state_->faults.clear();
    ++state_->faults_epoch;
  }
  state_->faults_changed.notify_all();
}

std::vector<ScaleWrite> FakeKubeApi::scale_writes() const {
  std::lock_guard lock(state_->mutex);
  return state_->scale_writes;
}

std::vector<RecordedEvent> FakeKubeApi::events() const {
  std::lock_guard lock(state_->mutex);
  return state_->events;
}

std::uint64_t FakeKubeApi::requests() const {
  return state_->requests.load();
}

FakeResponse FakeKubeApi::handle(const std::string& method, const std::string& path, const std::string& query,
                                 const std::string& authorization, const std::string& content_type,
                                 const std::string& body) {
  State& s = *state_;
  s.requests.fetch_add(1);
  std::unique_lock lock(s.mutex);

  if (!s.token.empty() && authorization != "Bearer " + s.token)
    return status_response(401, "Unauthorized", "Unauthorized");

  const auto parts = split_path(path);
  // apis/apps/v1/namespaces/NS/deployments/NAME[/scale], apis/apps/v1[/namespaces/NS]/deployments,
  // api/v1/namespaces/NS/events
  const bool apps = parts.size() >= 3 && parts[0] == "apis" && parts[1] == "apps" && parts[2] == "v1";
  const bool core = parts.size() >= 2 && parts[0] == "api" && parts[1] == "v1";
  const bool namespaced = parts.size() >= (apps ? 5u : 4u) && parts[apps ? 3 : 2] == "namespaces";
  const std::string ns = namespaced ? parts[apps ? 4 : 3] : "";
  const std::size_t resource_at = apps ? (namespaced ? 5 : 3) : (namespaced ? 4 : 2);
  const std::string resource = parts.size() > resource_at ? parts[resource_at] : "";
  const std::string name = parts.size() > resource_at + 1 ? parts[resource_at + 1] : "";
  const std::string subresource = parts.size() > resource_at + 2 ? parts[resource_at + 2] : "";
  const bool known_shape =
      parts.size() <= resource_at + 3 &&
      ((apps && resource == "deployments" && (subresource.empty() || subresource == "scale")) ||
       (core && namespaced && resource == "events" && name.empty()));
  if (!known_shape)
    return status_response(404, "NotFound", "the server could not find the requested resource");

  // Injected faults, first matching rule wins.
  for (auto it = s.faults.begin(); it != s.faults.end(); ++it) {
    if (!it->method.empty() && it->method != method) continue;
    if (!it->path_contains.empty() && path.find(it->path_contains) == std::string::npos) continue;
    const KubeFault fault = it->fault;
    if (it->count && --*it->count <= 0) s.faults.erase(it);
    switch (fault) {
      case KubeFault::kConflict:
        return conflict(name);
      case KubeFault::kNotFound:
        return not_found(name);
      case KubeFault::kForbidden: {
        const std::string verb = method == "PATCH"  ? "patch"
                                 : method == "POST" ? "create"
                                 : name.empty()     ? "list"
                                                    : "get";
        const std::string what =
            resource == "events" ? "events" : fmt::format("deployments.apps \"{}\"", name);
        const std::string full = resource == "events"  ? "events"
                                 : subresource.empty() ? "deployments"
                                                       : "deployments/" + subresource;
        return status_response(
            403, "Forbidden",
            fmt::format("{} is forbidden: User \"system:serviceaccount:maestro:maestro-controller\" cannot "
                        "{} resource "
                        "\"{}\" in API group \"{}\" in the namespace \"{}\"",
                        what, verb, full, resource == "events" ? "" : "apps", ns),
            resource == "events" ? json{{"kind", "events"}} : deployment_details(name));
      }
      case KubeFault::kGone:
        return status_response(
            410, "Expired",
            "The provided continue parameter is too old to display a consistent list result. "
            "You can start a new list without the continue parameter.");
      case KubeFault::kServerError:
        return status_response(500, "InternalError", "Internal error occurred: injected fault",
                               {{"causes", json::array({{{"message", "injected fault"}}})}});
      case KubeFault::kHang: {
        // Hold the request until the faults are cleared or the server stops, then answer as an API server
        // whose backend timed out — without acting on it.
        const auto epoch = s.faults_epoch;
        s.faults_changed.wait_for(lock, kMaxHang, [&] { return s.faults_epoch != epoch || s.stopping; });
        return status_response(504, "Timeout",
                               "Timeout: request did not complete within the allowed duration");
      }
    }
  }

  if (resource == "events") {
    if (method != "POST")
      return status_response(405, "MethodNotAllowed",
                             "the server does not allow this method on the requested resource");
    const json event = json::parse(body, nullptr, false);
    if (!event.is_object())
      return status_response(400, "BadRequest", "the body of the request was in an unknown format");
    if (event.value("kind", "") != "Event" || event.value("apiVersion", "") != "v1")
      return status_response(400, "BadRequest", "the object provided is not a v1 Event");
    const json metadata = event.value("metadata", json::object());
    if (metadata.contains("namespace") && metadata["namespace"] != ns)
      return status_response(
          400, "BadRequest",
          "the namespace of the provided object does not match the namespace sent on the request");
    const json involved = event.value("involvedObject", json::object());
    std::string event_name = metadata.value("name", "");
    if (event_name.empty() && metadata.contains("generateName"))
      event_name = metadata.value("generateName", "") + std::to_string(s.revision + 1);
    if (event_name.empty() || !involved.is_object() || involved.value("name", "").empty() ||
        event.value("reason", "").empty())
      return status_response(
          422, "Invalid",
          "Event.core \"\" is invalid: metadata.name, involvedObject and reason are required");
    if (!s.event_names.insert({ns, event_name}).second)
      return status_response(409, "AlreadyExists", fmt::format("events \"{}\" already exists", event_name),
                             {{"name", event_name}, {"kind", "events"}});
    s.events.push_back({ns, involved.value("name", ""), involved.value("kind", ""), event.value("reason", ""),
                        event.value("message", ""), event.value("type", ""),
                        event.value("source", json::object()).value("component", ""), body});
    json created = event;
    created["metadata"]["name"] = event_name;
    created["metadata"]["namespace"] = ns;
    created["metadata"]["uid"] = fmt::format("00000000-0000-4000-9000-{:012d}", s.next_uid++);
    created["metadata"]["resourceVersion"] = std::to_string(++s.revision);
    created["metadata"]["creationTimestamp"] = event.value("firstTimestamp", kCreationTimestamp);
    return {201, created.dump()};
  }

  // Deployments.
  if (name.empty()) {
    if (method != "GET")
      return status_response(405, "MethodNotAllowed",
                             "the server does not allow this method on the requested resource");
    std::vector<const State::Stored*> matching;
    for (const auto& [key, stored] : s.deployments)
      if (ns.empty() || key.first == ns) matching.push_back(&stored);
    const std::string limit_text = query_value(query, "limit");
    const std::string continue_token = query_value(query, "continue");
    std::size_t limit = matching.size();
    std::size_t start = 0;
    const auto parse_count = [](const std::string& text, std::size_t& out) {
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
      return error == std::errc() && end == text.data() + text.size();
    };
    if (!limit_text.empty() && (!parse_count(limit_text, limit) || limit == 0))
      return status_response(400, "BadRequest", fmt::format("invalid limit \"{}\"", limit_text));
    if (!continue_token.empty() && !parse_count(continue_token, start))
      return status_response(400, "BadRequest", "continue key is not valid");
    json items = json::array();
    for (std::size_t i = start; i < matching.size() && i < start + limit; ++i)
      items.push_back(s.deployment_json(*matching[i]));
    json list_meta = {{"resourceVersion", std::to_string(s.revision)}};
    if (start + items.size() < matching.size()) list_meta["continue"] = std::to_string(start + items.size());
    return {
        200,
        json{{"kind", "DeploymentList"}, {"apiVersion", "apps/v1"}, {"metadata", list_meta}, {"items", items}}
            .dump()};
  }

  const auto found = s.deployments.find({ns, name});
  if (found == s.deployments.end()) return not_found(name);
  State::Stored& stored = found->second;

  if (subresource.empty()) {
    if (method != "GET")
      return status_response(405, "MethodNotAllowed",
                             "the server does not allow this method on the requested resource");
    return {200, s.deployment_json(stored).dump()};
  }

  if (method == "GET") return {200, s.scale_json(stored).dump()};
  if (method != "PATCH")
    return status_response(405, "MethodNotAllowed",
                           "the server does not allow this method on the requested resource");
  if (content_type.find("application/merge-patch+json") == std::string::npos &&
      content_type.find("application/strategic-merge-patch+json") == std::string::npos)
    return status_response(
        415, "UnsupportedMediaType",
        fmt::format(
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"));
  const json patch = json::parse(body, nullptr, false);
  if (!patch.is_object()) return status_response(400, "BadRequest", "error decoding patch: invalid JSON");
  const json patch_metadata = patch.value("metadata", json::object());
  if (patch_metadata.contains("resourceVersion")) {
    const json& sent = patch_metadata["resourceVersion"];
    if (!sent.is_string())
      return status_response(400, "BadRequest", "metadata.resourceVersion must be a string");
    if (sent.get<std::string>() != std::to_string(stored.resource_version)) return conflict(name);
  }
  const json patch_spec = patch.value("spec", json::object());
  if (patch_spec.contains("replicas")) {
    const json& replicas = patch_spec["replicas"];
    if (!replicas.is_number_integer() || replicas.get<long long>() < 0 ||
        replicas.get<long long>() > 1'000'000)
      return status_response(
          422, "Invalid",
          fmt::format("Scale.autoscaling \"{}\" is invalid: spec.replicas: Invalid value: {}: must "
                      "be greater than or equal to 0",
                      name, replicas.dump()),
          {{"name", name}, {"group", "autoscaling"}, {"kind", "Scale"}});
    const int from = stored.spec.replicas;
    const int to = replicas.get<int>();
    if (to != from) {
      stored.spec.replicas = to;
      stored.resource_version = ++s.revision;
      ++stored.generation;
    }
    s.scale_writes.push_back({ns, name, from, to, std::to_string(stored.resource_version)});
  }
  return {200, s.scale_json(stored).dump()};
}

}  // namespace maestro::local
