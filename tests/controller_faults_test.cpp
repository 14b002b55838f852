// Faults through the controller that its other fault tests leave out (issue 11, item 3), each counted in
// reconcile intervals, never in seconds:
// - its clock jumping back or forward: it keeps reconciling every interval, a cooldown lasts at most its
//   length after the jump, a jump forward runs one reconcile rather than a burst of missed ones;
// - the deployment deleted, then created again under its name (a new uid): it holds while the deployment is
//   missing and manages the new one at the first interval after, without the old one's cooldown;
// - through the whole loop (the suggestion server with an HTTP model server): the model server answering
//   garbage, and the suggestion server overloaded (503 with Retry-After) — it holds, says why, and acts at
//   the first interval after the fault clears.
// In every case replicas stay within [min, max] and a fault never scales down.
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "net/http_server.hpp"
#include "prom/query_client.hpp"
#include "prom/state_builder.hpp"
#include "services/suggestion_server/kube_deployment_source.hpp"
#include "services/suggestion_server/model_client.hpp"
#include "services/suggestion_server/suggestion_server.hpp"
#include "support/controller_harness.hpp"
#include "support/eventually.hpp"
#include "support/fake_prometheus.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;
using testing::ControllerHarness;

constexpr int kHold = 1;
constexpr int kScaleUp = 2;
constexpr const char* kWeb = "shop/web";

TEST(ControllerClockJumps, BackAnHourItReconcilesAtTheNextIntervalAndItsCooldownEndsWithinItsLength) {
  ControllerHarness h("min_replicas: 1\n  max_replicas: 10\n  cooldown_seconds: 30");  // two intervals
  h.suggestions.answer_action(kScaleUp);
  h.controller->run_due();
  ASSERT_EQ(h.replicas(), 4);  // the cooldown starts
  h.clock.set(h.clock.now() - 1h);
  const int asked = h.suggestions.asked(kWeb);
  int intervals = 0;
  while (h.replicas() == 4 && intervals < 10) {
    h.interval();
    ++intervals;
    EXPECT_EQ(h.suggestions.asked(kWeb), asked + intervals) << "skipped an interval after the jump";
  }
  // The first interval after the jump reconciles; the cooldown (two intervals) counts from there.
  EXPECT_EQ(h.replicas(), 5);
  EXPECT_LE(intervals, 3) << "the cooldown lasted until the clock caught up";
  for (const auto& write : h.api.scale_writes()) EXPECT_GT(write.to, write.from) << "scaled down";
}

TEST(ControllerClockJumps, ForwardAnHourItReconcilesOnceAndThenEveryIntervalAsBefore) {
  ControllerHarness h;
  h.suggestions.answer_action(kHold);
  h.controller->run_due();
  const int asked = h.suggestions.asked(kWeb);
  h.clock.advance(1h);
  h.controller->run_due();
  EXPECT_EQ(h.suggestions.asked(kWeb), asked + 1) << "a burst of the missed intervals";
  h.controller->run_due();  // the same instant: nothing is due
  EXPECT_EQ(h.suggestions.asked(kWeb), asked + 1);
  h.interval();
  EXPECT_EQ(h.suggestions.asked(kWeb), asked + 2);
  EXPECT_EQ(h.replicas(), 3) << "a jump changed the replicas";
  EXPECT_TRUE(h.api.scale_writes().empty());
}

TEST(ControllerDeploymentRecreated, HoldsWhileItIsMissingThenManagesTheNewOneWithoutTheOldCooldown) {
  ControllerHarness h("min_replicas: 1\n  max_replicas: 10\n  cooldown_seconds: 300");
  h.suggestions.answer_action(kScaleUp);
  h.controller->run_due();
  ASSERT_EQ(h.replicas(), 4);  // the old deployment's cooldown runs for 20 intervals
  const auto uid = [&] { return h.kube->get_scale("shop", "web").value().uid; };
  const auto old_uid = uid();
  h.api.remove_deployment("shop", "web");
  h.interval();
  h.interval();
  EXPECT_EQ(h.errors("kube_not_found"), 2);
  EXPECT_EQ(h.api.scale_writes().size(), 1u);

  h.api.put_deployment(local::fake_deployment("shop", "web", 2));
  ASSERT_NE(uid(), old_uid);
  h.interval();  // the first interval after it is back
  EXPECT_EQ(h.replicas(), 3) << "the new deployment was held by the old one's cooldown";
  const auto writes = h.api.scale_writes();
  ASSERT_EQ(writes.size(), 2u);
  EXPECT_EQ(writes[1].from, 2);
}

// A model server on loopback that answers well (always one step down: what a fault must never cause),
// answers `garbage`, or makes /predict wait until released.
class FakeModelServer {
 public:
  FakeModelServer() : server_({.io_threads = 1, .handler_threads = 4}) {
    server_.route("GET", "/policy", [](const net::HttpRequest&, net::HttpResponse& response) {
      response = net::json_response(200, R"({"model_version":"down","feature_set":"original",)"
                                         R"("memory_limit_bytes_per_pod":536870912,"needs_features":false})");
    });
    server_.route("POST", "/predict", [this](const net::HttpRequest& request, net::HttpResponse& response) {
      std::unique_lock lock(mutex_);
      ++predictions_;
      entered_.notify_all();
      released_.wait_for(lock, 10s, [this] { return !stalled_; });
      if (garbage_) {
        response = net::json_response(garbage_->first, garbage_->second);
        return;
      }
      const int replicas = nlohmann::json::parse(request.body, nullptr, false).value("replicas", 0);
      response = net::json_response(
          200, fmt::format(R"({{"action":0,"action_name":"scale_down","action_set":"original",)"
                           R"("replica_change":{{"kind":"pods","amount":-1}},"replicas":{},)"
                           R"("desired_replicas":{},"model_version":"down"}})",
                           replicas, replicas - 1));
    });
  }
  ~FakeModelServer() {
    release();
    server_.stop();
  }
  Result<std::uint16_t> start() {
    auto port = server_.listen("127.0.0.1:0");
    if (port) server_.start();
    return port;
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", server_.port()); }

  void answer(int status, std::string body) {
    std::lock_guard lock(mutex_);
    garbage_.emplace(status, std::move(body));
  }
  void answer_well() {
    std::lock_guard lock(mutex_);
    garbage_.reset();
  }
  void stall() {
    std::lock_guard lock(mutex_);
    stalled_ = true;
  }
  void release() {
    {
      std::lock_guard lock(mutex_);
      stalled_ = false;
    }
    released_.notify_all();
  }
  int predictions() const {
    std::lock_guard lock(mutex_);
    return predictions_;
  }

 private:
  net::HttpServer server_;
  mutable std::mutex mutex_;
  std::condition_variable entered_, released_;
  std::optional<std::pair<int, std::string>> garbage_;
  bool stalled_ = false;
  int predictions_ = 0;
};

// The controller, configured as `maestro controller` configures it, asking the suggestion server, which reads
// deployment shop/web (5 replicas, bounds [2, 6]) from the Kubernetes API double, its metrics from a stand-in
// Prometheus, and asks the model server over HTTP.
struct WholeLoop {
  explicit WholeLoop(int max_pending = 64) {
    api.put_deployment(local::fake_deployment("shop", "web", 5));
    if (!api.start() || !prometheus_server.start() || !model_server.start())
      throw std::runtime_error("a stand-in did not start");
    prometheus_server.set({.cpu_usage = 50, .memory_usage = 1e8, .replicas = 0, .latency = 20, .rps = 10});
    net::HttpClientOptions kube_options;
    kube_options.base_url = api.url();
    kube_options.retry.max_attempts = 1;
    kube_options.bearer_token = []() -> Result<std::string> { return std::string("token"); };
    suggestion_kube = std::make_unique<kube::KubeClient>(kube_options);
    deployments = std::make_unique<suggestion_server::KubeDeploymentSource>(*suggestion_kube);
    net::HttpClientOptions prometheus_options;
    prometheus_options.base_url = prometheus_server.url();
    prometheus_options.retry.max_attempts = 1;
    prometheus_http = std::make_unique<net::HttpClient>(prometheus_options);
    prometheus = std::make_unique<prom::PrometheusClient>(*prometheus_http);
    state_builder = std::make_unique<prom::StateBuilder>(*prometheus);
    net::HttpClientOptions model_options;  // as `maestro serve suggest` sets them
    model_options.base_url = model_server.url();
    model_options.total_timeout = 2s;
    model_options.retry.max_attempts = 2;
    model_options.retry.retry_server_errors = false;
    model_http = std::make_unique<net::HttpClient>(model_options);
    model = std::make_unique<suggestion_server::HttpModelClient>(*model_http);
    suggestion_server::SuggestionServerOptions options;
    options.max_pending = max_pending;
    suggestions = std::make_unique<suggestion_server::SuggestionServer>(*deployments, *state_builder, *model,
                                                                        clock, options);
    const auto port = suggestions->listen("127.0.0.1:0");
    if (!port) throw std::runtime_error(port.error().message);
    suggestions->start();
    suggestion_url = fmt::format("http://127.0.0.1:{}", *port);

    auto parsed = controller::parse_controller_config(fmt::format(R"(
suggestion_server: {}
suggestion_timeout_ms: 2000
listen: 127.0.0.1:0
workers: 1
kubernetes: {{server: "{}", token: token}}
defaults: {{min_replicas: 2, max_replicas: 6}}
deployments: [{{namespace: shop, name: web}}]
)",
                                                                  suggestion_url, api.url()));
    if (!parsed) throw std::runtime_error(parsed.error().message);
    config = *parsed;
    auto controller_kube_options = controller::kubernetes_http_options(config.kubernetes, clock);
    if (!controller_kube_options) throw std::runtime_error(controller_kube_options.error().message);
    controller_kube = std::make_unique<kube::KubeClient>(*controller_kube_options);
    net::HttpClientOptions suggestion_options;  // as `maestro controller` sets them
    suggestion_options.base_url = config.suggestion_server;
    suggestion_options.total_timeout = config.suggestion_timeout;
    suggestion_options.retry.max_attempts = 2;
    suggestion_options.retry.retry_server_errors = false;
    suggestion_client = std::make_unique<controller::SuggestionClient>(suggestion_options);
    controller = std::make_unique<controller::Controller>(config, *controller_kube, *suggestion_client, clock,
                                                          registry);
  }
  ~WholeLoop() {
    model_server.release();
    controller.reset();
    suggestions->stop();
  }

  void interval() {
    clock.advance(config.defaults.interval);
    controller->run_due();
  }
  int replicas() { return api.replicas("shop", "web").value_or(-1); }
  double errors(const std::string& cause) {
    return testing::metric_value(registry, "maestro_controller_errors_total", {{"cause", cause}});
  }

  local::FakeKubeApi api{"token"};
  testing::FakePrometheus prometheus_server;
  FakeModelServer model_server;
  base::ManualClock clock;
  std::unique_ptr<kube::KubeClient> suggestion_kube;
  std::unique_ptr<suggestion_server::KubeDeploymentSource> deployments;
  std::unique_ptr<net::HttpClient> prometheus_http;
  std::unique_ptr<prom::PrometheusClient> prometheus;
  std::unique_ptr<prom::StateBuilder> state_builder;
  std::unique_ptr<net::HttpClient> model_http;
  std::unique_ptr<suggestion_server::HttpModelClient> model;
  std::unique_ptr<suggestion_server::SuggestionServer> suggestions;
  std::string suggestion_url;
  controller::ControllerConfig config;
  std::unique_ptr<kube::KubeClient> controller_kube;
  std::unique_ptr<controller::SuggestionClient> suggestion_client;
  prometheus::Registry registry;
  std::unique_ptr<controller::Controller> controller;
};

TEST(ControllerWholeLoopFaults, HoldsWhileTheModelServerAnswersGarbageAndActsAtTheFirstIntervalAfter) {
  WholeLoop loop;
  testing::CapturedLog log;
  const std::vector<std::pair<int, std::string>> garbage = {
      {200, "<html>model server</html>"},
      {200, R"({"action": 0, "action_name": "scale_down")"},  // cut off
      {200, ""},
      {200, R"({"action": 0})"},  // without the change it means or the replicas it was decided for
      {200, R"({"action": -1, "action_name": "x", "action_set": "original",)"
            R"( "replica_change": {"kind": "pods", "amount": -1}, "replicas": 5})"},
      {200, R"({"action": 0, "action_name": "scale_down", "action_set": "original",)"
            R"( "replica_change": {"kind": "nodes", "amount": -1}, "replicas": 5})"},
      {500, "<html>Internal Server Error</html>"},
  };
  double held = 0;
  for (const auto& [status, body] : garbage) {
    loop.api.set_replicas("shop", "web", 5);
    loop.model_server.answer(status, body);
    loop.interval();
    loop.interval();
    EXPECT_EQ(loop.replicas(), 5) << "acted on: " << body;
    held += 2;
    EXPECT_EQ(loop.errors("suggestion_unavailable"), held) << body;
    loop.model_server.answer_well();
    loop.interval();  // the first interval after the fault clears acts: the model's one step down
    EXPECT_EQ(loop.replicas(), 4) << "did not recover after: " << body;
  }
  EXPECT_NE(log.text().find("cause=suggestion_unavailable"), std::string::npos) << log.text();
  for (const auto& write : loop.api.scale_writes()) EXPECT_GE(write.to, 2);
}

TEST(ControllerWholeLoopFaults, HoldsWhileTheSuggestionServerIsOverloadedAndActsAtTheFirstIntervalAfter) {
  WholeLoop loop(/*max_pending=*/1);
  testing::CapturedLog log;
  // Another caller's request takes the only place and waits in the model.
  loop.model_server.stall();
  std::thread occupant([&] {
    net::HttpClientOptions options;
    options.base_url = loop.suggestion_url;
    options.total_timeout = 10s;
    options.retry.max_attempts = 1;
    net::HttpClient(options).get("/suggest?deployment=web&namespace=shop");
  });
  ASSERT_TRUE(testing::eventually([&] { return loop.model_server.predictions() == 1; }, 5s));
  loop.interval();
  loop.interval();
  EXPECT_EQ(loop.replicas(), 5);
  EXPECT_EQ(loop.errors("suggestion_unavailable"), 2);
  EXPECT_EQ(loop.model_server.predictions(), 1) << "an overloaded server's answer was retried past it";
  EXPECT_NE(log.text().find("HTTP 503: overloaded"), std::string::npos) << log.text();
  loop.model_server.release();
  occupant.join();
  loop.interval();  // the first interval after the load is gone acts
  EXPECT_EQ(loop.replicas(), 4);
}

}  // namespace
}  // namespace maestro
