#include "services/model_server/model_server.hpp"

#include <csignal>
#include <iterator>
#include <mutex>

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "services/model_server/predict_request.hpp"

namespace maestro::model_server {

struct ModelServer::Metrics {
  explicit Metrics(prometheus::Registry& registry)
      : actions(prometheus::BuildCounter()
                    .Name("maestro_model_actions_total")
                    .Help("Actions the model server answered, by action")
                    .Register(registry)),
        reloads(prometheus::BuildCounter()
                    .Name("maestro_model_policy_reloads_total")
                    .Help("Policy loads, by result (success: now serving it; failure: refused, old kept)")
                    .Register(registry)),
        policy_info(prometheus::BuildGauge()
                        .Name("maestro_model_policy_info")
                        .Help("The policy being served: 1 for its version, 0 for versions served before")
                        .Register(registry)),
        reload_success(reloads.Add({{"result", "success"}})),
        reload_failure(reloads.Add({{"result", "failure"}})) {
    for (int code = 0; code < core::kActionCount; ++code)
      by_action[static_cast<std::size_t>(code)] =
          &actions.Add({{"action", std::string(core::action_name(*core::action_from_code(code)))}});
  }

  void serving(const std::string& version) {
    std::lock_guard lock(mutex);
    if (current_version != nullptr) current_version->Set(0);
    current_version = &policy_info.Add({{"version", version}});
    current_version->Set(1);
  }

  prometheus::Family<prometheus::Counter>& actions;
  prometheus::Family<prometheus::Counter>& reloads;
  prometheus::Family<prometheus::Gauge>& policy_info;
  prometheus::Counter& reload_success;
  prometheus::Counter& reload_failure;
  std::array<prometheus::Counter*, core::kActionCount> by_action{};
  std::mutex mutex;
  prometheus::Gauge* current_version = nullptr;
};

ModelServer::ModelServer(ModelServerOptions options)
    : options_(std::move(options)),
      slot_(options_.loader),
      http_(options_.http),
      metrics_(std::make_unique<Metrics>(http_.registry())) {
  http_.route("POST", "/predict", [this](const net::HttpRequest& request, net::HttpResponse& response) {
    predict(request, response);
  });
  http_.set_readiness([this] { return slot_.current() != nullptr; });
  // Watching from construction on, before the first load: a change at any time after is seen.
  watcher_ = std::make_unique<FileWatcher>(options_.policy_file, options_.watch_interval, [this] {
    spdlog::info("reloading policy {}", options_.policy_file.string());
    (void)reload();
  });
}

ModelServer::~ModelServer() {
  stop();
}

Result<void> ModelServer::load() {
  auto loaded = slot_.load(options_.policy_file);
  if (!loaded) {
    metrics_->reload_failure.Increment();
    return std::unexpected(loaded.error());
  }
  metrics_->reload_success.Increment();
  metrics_->serving((*loaded)->version());
  spdlog::info("serving policy {} version {}", options_.policy_file.string(), (*loaded)->version());
  return {};
}

Result<void> ModelServer::reload() {
  auto reloaded = load();
  if (!reloaded) spdlog::error("{}; still serving the previous policy", reloaded.error().message);
  return reloaded;
}

void ModelServer::predict(const net::HttpRequest& request, net::HttpResponse& response) {
  const auto policy = slot_.current();  // held for the whole request, whatever a reload does meanwhile
  if (policy == nullptr) {
    response = net::error_response(503, "no policy loaded");
    return;
  }
  auto observation = parse_predict_request(request.body);
  if (!observation) {
    response = net::error_response(400, observation.error().message);
    return;
  }
  const PolicyAnswer answer = policy->predict(*observation);
  const int code = static_cast<int>(answer.action);
  metrics_->by_action[static_cast<std::size_t>(code)]->Increment();
  response.body.clear();
  fmt::format_to(std::back_inserter(response.body),
                 R"({{"action":{},"action_name":"{}","probabilities":[{},{},{}],"model_version":"{}"}})",
                 code, core::action_name(answer.action), answer.probabilities[0], answer.probabilities[1],
                 answer.probabilities[2], policy->version());
}

Result<std::uint16_t> ModelServer::listen(std::string_view address) {
  return http_.listen(address);
}

void ModelServer::begin_watching() {
  // Reloads run on the watcher's thread, never on the server's: a reload holds up no request.
  http_.handle_signals({SIGHUP}, [this](int) { watcher_->poke(); });
}

void ModelServer::start() {
  begin_watching();
  http_.start();
}

void ModelServer::run() {
  begin_watching();
  http_.stop_on_signals();
  http_.run();
}

void ModelServer::stop() {
  http_.stop();  // first: a SIGHUP handled by the server pokes the watcher
  watcher_.reset();
}

}  // namespace maestro::model_server
