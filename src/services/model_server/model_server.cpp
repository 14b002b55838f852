#include "services/model_server/model_server.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <csignal>
#include <iterator>
#include <mutex>

#include <fmt/compile.h>
#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

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
        reload_failure(reloads.Add({{"result", "failure"}})) {}

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
  std::mutex mutex;
  prometheus::Gauge* current_version = nullptr;
};

struct ModelServer::Serving {
  std::shared_ptr<const ServedPolicy> policy;
  PredictionJson prediction;
  std::vector<prometheus::Counter*> action_counters;  // maestro_model_actions_total, by action index
};

ModelServer::ModelServer(ModelServerOptions options)
    : options_(std::move(options)),
      slot_(options_.loader),
      http_(options_.http),
      metrics_(std::make_unique<Metrics>(http_.registry())) {
  http_.route("POST", "/predict", [this](const net::HttpRequest& request, net::HttpResponse& response) {
    predict(request, response);
  });
  http_.route("GET", "/policy",
              [this](const net::HttpRequest&, net::HttpResponse& response) { describe(response); });
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
  const core::ActionSet& actions = (*loaded)->action_set();
  std::vector<prometheus::Counter*> action_counters;
  for (const auto& name : actions.names)
    action_counters.push_back(&metrics_->actions.Add({{"action", name}}));
  serving_.store(std::make_shared<const Serving>(
      Serving{*loaded, PredictionJson(actions, (*loaded)->version()), std::move(action_counters)}));
  spdlog::info("serving policy {} version {}", options_.policy_file.string(), (*loaded)->version());
  return {};
}

Result<void> ModelServer::reload() {
  auto reloaded = load();
  if (!reloaded) spdlog::error("{}; still serving the previous policy", reloaded.error().message);
  return reloaded;
}

namespace {

// "application/json", in any case, with or without parameters ("; charset=utf-8").
bool is_json_media_type(std::string_view content_type) {
  const std::string_view media_type = content_type.substr(0, content_type.find(';'));
  const auto first = media_type.find_first_not_of(" \t");
  const auto last = media_type.find_last_not_of(" \t");
  if (first == std::string_view::npos) return false;
  const std::string_view trimmed = media_type.substr(first, last - first + 1);
  constexpr std::string_view kJson = "application/json";
  return trimmed.size() == kJson.size() && std::ranges::equal(trimmed, kJson, [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

nlohmann::json replica_change_json(const core::ReplicaChange& change) {
  return {{"kind", core::replica_change_kind_name(change.kind)}, {"amount", change.amount}};
}

// A probability as the shortest text that reads back the same double (fmt's), and with ".0" when whole (fmt
// prints 1.0 as "1"), so that it stays a float for typed clients, as nlohmann::json prints it; null if not
// finite.
void append_probability(std::string& out, double probability) {
  if (!std::isfinite(probability)) {
    out += "null";
    return;
  }
  const std::size_t start = out.size();
  fmt::format_to(std::back_inserter(out), FMT_COMPILE("{}"), probability);
  if (out.find_first_of(".e", start) == std::string::npos) out += ".0";
}

}  // namespace

PredictionJson::PredictionJson(const core::ActionSet& actions, const std::string& model_version) {
  const std::string set_name = net::json_text(actions.name);
  for (int code = 0; code < actions.size(); ++code) {
    const auto index = static_cast<std::size_t>(code);
    const core::ReplicaChange& change = actions.changes[index];
    actions_.push_back(
        Action{.change = change,
               .after_index = fmt::format(R"(,"action_name":{},"action_set":{},"desired_replicas":)",
                                          net::json_text(actions.names[index]), set_name),
               .change_json = change.kind == core::ReplicaChange::Kind::kUtilisation
                                  ? std::string()
                                  : net::json_text(replica_change_json(change))});
  }
  after_desired_ = fmt::format(R"(,"model_version":{},"probabilities":[)", net::json_text(model_version));
}

void PredictionJson::write(const PolicyAnswer& answer, double replicas,
                           const std::optional<core::CpuBasis>& cpu, std::string& out) const {
  const Action& action = actions_[static_cast<std::size_t>(answer.action)];
  // The replicas it was decided for, as a count (an observation's replicas are whole in practice).
  const int decided_for = static_cast<int>(std::min(std::round(replicas), 1e9));
  const int desired = core::replicas_after(action.change, decided_for, cpu).value_or(decided_for);
  out.clear();
  out += R"({"action":)";
  out += fmt::format_int(answer.action).c_str();
  out += action.after_index;
  out += fmt::format_int(desired).c_str();
  out += after_desired_;
  for (std::size_t i = 0; i < answer.probabilities.size(); ++i) {
    if (i > 0) out += ',';
    append_probability(out, answer.probabilities[i]);
  }
  out += R"(],"replica_change":)";
  if (action.change_json.empty()) {  // as replica_change_json spells a change of pods
    out += R"({"amount":)";
    out += fmt::format_int(desired - decided_for).c_str();
    out += R"(.0,"kind":"pods"})";
  } else {
    out += action.change_json;
  }
  out += R"(,"replicas":)";
  out += fmt::format_int(decided_for).c_str();
  out += '}';
}

void ModelServer::predict(const net::HttpRequest& request, net::HttpResponse& response) {
  const auto serving = serving_.load(std::memory_order_acquire);  // held for the whole request
  if (serving == nullptr) {
    response = net::error_response(503, "no policy loaded");
    return;
  }
  // Only JSON is read as JSON: a form post or a text body is refused before it is parsed.
  const auto content_type = request.header("Content-Type");
  if (!content_type || !is_json_media_type(*content_type)) {
    response = net::error_response(
        415, fmt::format("Content-Type must be application/json, got '{}'", content_type.value_or("(none)")));
    return;
  }
  auto parsed = parse_predict_request(request.body);
  if (!parsed) {
    response = net::error_response(400, parsed.error().message);
    return;
  }
  const core::ActionSet& actions = serving->policy->action_set();
  if (actions.needs_cpu() && !parsed->cpu_request_cores) {
    response = net::error_response(
        400,
        fmt::format("field 'cpu_request_cores' is missing: the policy's action set '{}' sizes the deployment "
                    "for a CPU utilisation of its pods' request, so the request must say one pod's CPU "
                    "request in cores",
                    actions.name));
    return;
  }
  auto answer = serving->policy->predict(*parsed);
  if (!answer) {
    response = net::error_response(400, answer.error().message);
    return;
  }
  serving->action_counters[static_cast<std::size_t>(answer->action)]->Increment();
  response.status = 200;
  std::optional<core::CpuBasis> cpu;
  if (parsed->cpu_request_cores)
    cpu = core::CpuBasis{parsed->observation.cpu_usage, *parsed->cpu_request_cores};
  serving->prediction.write(*answer, parsed->observation.replicas, cpu, response.body);
}

void ModelServer::describe(net::HttpResponse& response) {
  const auto policy = slot_.current();
  if (policy == nullptr) {
    response = net::error_response(503, "no policy loaded");
    return;
  }
  const core::FeatureSpec spec = policy->feature_spec();
  const core::ActionSet& set = policy->action_set();
  nlohmann::json actions = nlohmann::json::array();
  for (int code = 0; code < set.size(); ++code)
    actions.push_back({{"action", code},
                       {"action_name", set.names[static_cast<std::size_t>(code)]},
                       {"replica_change", replica_change_json(set.changes[static_cast<std::size_t>(code)])}});
  response =
      net::json_response(200, net::json_text({{"model_version", policy->version()},
                                              {"feature_set", core::feature_set_name(spec.set)},
                                              {"feature_count", core::feature_count(spec.set)},
                                              {"needs_features", policy->needs_features()},
                                              {"memory_limit_bytes_per_pod", spec.memory_limit_bytes_per_pod},
                                              {"needs_cpu_request", set.needs_cpu()},
                                              {"action_set", {{"name", set.name}, {"actions", actions}}}}));
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
