// Test support: a stand-in for the suggestion server (GET /suggest?deployment=&namespace=) whose answer a
// test sets — an action of the original set, a 503 with a reason, a body that is not the contract's JSON, or
// no answer at all until released — so that the controller can be driven through every case. An action is
// decided for the replicas the Kubernetes API test double has when asked (as the real server reads them), or
// for the replicas a test sets. Header-only.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "core/action.hpp"
#include "local/fake_kube_api.hpp"
#include "net/http_server.hpp"

namespace maestro::testing {

class FakeSuggestionServer {
 public:
  enum class Mode { kAction, kUnavailable, kGarbage, kBody, kHang };

  // `kube` (which must outlive the server) is where the replicas suggestions are decided for are read.
  explicit FakeSuggestionServer(const local::FakeKubeApi& kube) : kube_(kube), server_(options()) {
    server_.route("GET", "/suggest", [this](const net::HttpRequest& request, net::HttpResponse& response) {
      const std::string ns = request.query_param("namespace").value_or("");
      const std::string name = request.query_param("deployment").value_or("");
      const std::string key = fmt::format("{}/{}", ns, name);
      std::unique_lock lock(mutex_);
      ++asked_[key];
      const auto it = actions_.find(key);
      const int action = it != actions_.end() ? it->second : action_;
      const int replicas = decided_for_.value_or(kube_.replicas(ns, name).value_or(0));
      switch (mode_) {
        case Mode::kAction:
          response = net::json_response(
              200,
              fmt::format(
                  R"({{"action":{},"action_name":"{}","action_set":"original",)"
                  R"("replica_change":{{"kind":"pods","amount":{}}},"replicas":{},"desired_replicas":{},)"
                  R"("observation":{{"cpu_usage":10,"memory_usage":1,"replicas":{},"latency":5,"rps":3}}}})",
                  action, core::action_name(static_cast<core::Action>(action)), action - 1, replicas,
                  std::max(0, replicas + action - 1), replicas));
          return;
        case Mode::kUnavailable:
          response = net::error_response(503, "prometheus: no data for deployment");
          return;
        case Mode::kGarbage:
          response = net::json_response(200, "{\"action\": tru");
          return;
        case Mode::kBody:
          response = net::json_response(200, body_);
          return;
        case Mode::kHang: {
          const auto epoch = epoch_;
          released_.wait_for(lock, std::chrono::seconds(30), [&] { return epoch_ != epoch; });
          response = net::error_response(503, "released");
          return;
        }
      }
    });
  }
  ~FakeSuggestionServer() {
    release();
    server_.stop();
  }

  Result<std::uint16_t> start() {
    auto port = server_.listen("127.0.0.1:0");
    if (port) server_.start();
    return port;
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", server_.port()); }

  void answer_action(int action) { set(Mode::kAction, action, ""); }
  // Every suggestion from now on says it was decided for `replicas`, whatever the deployment has; nothing:
  // for what the deployment has.
  void decide_for(std::optional<int> replicas) {
    std::lock_guard lock(mutex_);
    decided_for_ = replicas;
  }
  // One deployment ("namespace/name") gets its own action.
  void answer_action_for(const std::string& key, int action) {
    std::lock_guard lock(mutex_);
    actions_[key] = action;
  }
  void answer_unavailable() { set(Mode::kUnavailable, 1, ""); }
  void answer_garbage() { set(Mode::kGarbage, 1, ""); }
  void answer_body(std::string body) { set(Mode::kBody, 1, std::move(body)); }
  void hang() { set(Mode::kHang, 1, ""); }
  void release() {
    {
      std::lock_guard lock(mutex_);
      ++epoch_;
    }
    released_.notify_all();
  }
  int asked(const std::string& key) const {
    std::lock_guard lock(mutex_);
    const auto it = asked_.find(key);
    return it == asked_.end() ? 0 : it->second;
  }

 private:
  static net::HttpServerOptions options() {
    net::HttpServerOptions options;
    options.handler_threads = 8;  // a hanging answer must not block the others
    options.drain_timeout = std::chrono::milliseconds(1000);
    return options;
  }
  void set(Mode mode, int action, std::string body) {
    {
      std::lock_guard lock(mutex_);
      mode_ = mode;
      action_ = action;
      body_ = std::move(body);
      ++epoch_;
    }
    released_.notify_all();
  }

  const local::FakeKubeApi& kube_;
  net::HttpServer server_;
  mutable std::mutex mutex_;
  std::optional<int> decided_for_;
  std::condition_variable released_;
  Mode mode_ = Mode::kAction;
  int action_ = 1;
  std::string body_;
  std::uint64_t epoch_ = 0;
  std::map<std::string, int> actions_;
  std::map<std::string, int> asked_;
};

}  // namespace maestro::testing
