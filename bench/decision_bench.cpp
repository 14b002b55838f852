// One full decision on loopback, as the controller makes it every interval for each deployment: ask the
// suggestion server (`maestro serve suggest`, a process: it reads the deployment from the Kubernetes API test
// double, runs the four PromQL queries against a real Prometheus scraping the target app under load, and asks
// the model server, which runs a policy file), then read the scale and merge-patch it, and record the Event.
// Timed by the controller's own code path (Controller::run_due with one deployment); the deployment is put
// back to 2 replicas between iterations (untimed) so that every decision patches. Prints median and p99, and
// the same for the suggestion alone.
//
//   build-control/bench/bench_decision
#include <benchmark/benchmark.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "../tests/support/prometheus_container_exporter.hpp"
#include "../tests/support/prometheus_server.hpp"
#include "../tests/support/target_app_load.hpp"
#include "../tests/support/target_app_process.hpp"
#include "../tests/support/threshold_policy.hpp"
#include "local/fake_kube_api.hpp"
#include "services/controller/config.hpp"
#include "services/controller/controller.hpp"
#include "services/model_server/model_server.hpp"
#include "services/model_server/nn_policy.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;

constexpr const char* kNamespace = "shop";
constexpr const char* kPod = "web-5d8f7c9b4-x7k2p";

double percentile(std::vector<double> values, double q) {
  std::ranges::sort(values);
  return values[std::min(values.size() - 1,
                         static_cast<std::size_t>(q * static_cast<double>(values.size())))];
}

void BM_FullDecision(benchmark::State& state) {
  spdlog::set_level(spdlog::level::warn);  // one decision line per iteration would be timed too
  const auto directory =
      std::filesystem::temp_directory_path() / fmt::format("maestro-bench-decision-{}", ::getpid());
  std::filesystem::create_directories(directory);
  std::ofstream(directory / "token") << "bench-token\n";

  auto app = testing::TargetApp::start({"--cpu-ms", "1", "--workers", "8"});
  if (!app) return state.SkipWithError(app.error().message.c_str());
  testing::ContainerMetricsExporter exporter(app->process.pid(), kNamespace, kPod, "app");
  if (!exporter.start()) return state.SkipWithError("exporter did not start");
  auto prometheus = testing::PrometheusServer::start({
      testing::ScrapeTarget{.job = "app",
                            .address = fmt::format("127.0.0.1:{}", app->port),
                            .metrics_path = "/metrics",
                            .labels = {{"namespace", kNamespace}, {"pod", kPod}},
                            .honor_labels = false},
      testing::ScrapeTarget{.job = "kubelet-cadvisor",
                            .address = fmt::format("127.0.0.1:{}", exporter.port()),
                            .metrics_path = testing::ContainerMetricsExporter::kPath,
                            .labels = {},
                            .honor_labels = true},
  });
  if (!prometheus) return state.SkipWithError(prometheus.error().message.c_str());

  local::FakeKubeApi kube("bench-token");
  kube.put_deployment(local::fake_deployment(kNamespace, "web", 2));
  if (!kube.start()) return state.SkipWithError("fake Kubernetes API did not start");

  if (!nn::write_policy_file(directory / "policy.maestro", testing::rps_threshold_policy(25, 10)))
    return state.SkipWithError("cannot write the policy");
  model_server::ModelServer model({.policy_file = directory / "policy.maestro",
                                   .loader = model_server::load_policy_file,
                                   .http = {},
                                   .watch_interval = std::nullopt});
  auto model_port = model.load() ? model.listen("127.0.0.1:0") : fail("policy did not load");
  if (!model_port) return state.SkipWithError(model_port.error().message.c_str());
  model.start();

  auto suggest = testing::ChildProcess::spawn(
      {std::string(MAESTRO_BINARY_DIR) + "/maestro", "serve", "suggest", "--listen", "127.0.0.1:0",
       "--prometheus", prometheus->get()->url(), "--model", fmt::format("http://127.0.0.1:{}", *model_port),
       "--kubernetes", kube.url(), "--kube-token-file", (directory / "token").string(), "--window", "10s"},
      (directory / "suggest.log").string());
  if (!suggest) return state.SkipWithError(suggest.error().message.c_str());
  const auto line = suggest->read_line(10s);
  unsigned suggest_port = 0;
  if (!line || std::sscanf(line->c_str(), "listening on %u", &suggest_port) != 1)
    return state.SkipWithError("suggestion server did not start");
  // It logs a line per decision to stdout: drain it, or it blocks once the pipe is full.
  std::atomic<bool> draining{true};
  std::thread drain([&] {
    while (draining) suggest->read_line(200ms);
  });
  const auto stop_draining = [&] {
    draining = false;
    drain.join();
  };

  // 40 requests/s: over the policy's scale-up threshold, so that every decision is "scale up".
  testing::LoadGenerator load({.base_url = fmt::format("http://127.0.0.1:{}", app->port),
                               .clients = 2,
                               .requests_per_second_per_client = 20,
                               .max_duration = 600s,
                               .path = [](std::size_t) { return std::string("/work"); }});
  load.start();
  auto ready = prometheus->get()->wait_for_value(R"(sum(rate(http_requests_total{namespace="shop"}[10s])))",
                                                 [](double v) { return v > 30; }, 60s);
  if (!ready) return state.SkipWithError(ready.error().message.c_str());

  auto config = controller::parse_controller_config(fmt::format(R"(
suggestion_server: http://127.0.0.1:{}
kubernetes: {{server: {}, token: bench-token}}
workers: 1
defaults: {{min_replicas: 1, max_replicas: 10}}
deployments: [{{namespace: shop, name: web}}]
)",
                                                                suggest_port, kube.url()));
  if (!config) return state.SkipWithError(config.error().message.c_str());
  base::ManualClock clock;
  auto kube_options = controller::kubernetes_http_options(config->kubernetes, clock);
  kube::KubeClient kube_client(*kube_options);
  net::HttpClientOptions suggestion_options;
  suggestion_options.base_url = config->suggestion_server;
  suggestion_options.total_timeout = 2s;
  suggestion_options.retry.max_attempts = 1;
  controller::SuggestionClient suggestions(suggestion_options);
  prometheus::Registry registry;
  controller::Controller controller(*config, kube_client, suggestions, clock, registry);

  std::vector<double> decision_ms;
  for (auto _ : state) {
    state.PauseTiming();
    kube.set_replicas(kNamespace, "web", 2);
    clock.advance(15s);
    state.ResumeTiming();
    const auto started = std::chrono::steady_clock::now();
    controller.run_due();
    decision_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
    if (kube.scale_writes().size() != decision_ms.size()) {
      stop_draining();
      return state.SkipWithError("a decision did not patch the scale (see the controller's log line)");
    }
  }
  const auto writes = kube.scale_writes().size();

  // The suggestion alone: kube read, four PromQL queries, one prediction.
  std::vector<double> suggestion_ms;
  for (int i = 0; i < 200; ++i) {
    const auto started = std::chrono::steady_clock::now();
    auto answer = suggestions.ask(kNamespace, "web");
    suggestion_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
    if (!answer) {
      stop_draining();
      return state.SkipWithError(answer.error().message.c_str());
    }
  }
  load.stop();

  state.counters["decision_median_ms"] = percentile(decision_ms, 0.5);
  state.counters["decision_p99_ms"] = percentile(decision_ms, 0.99);
  state.counters["suggestion_median_ms"] = percentile(suggestion_ms, 0.5);
  state.counters["suggestion_p99_ms"] = percentile(suggestion_ms, 0.99);
  std::cout << fmt::format(
      "full decision ({} timed, {} scale patches): median {:.2f} ms, p99 {:.2f} ms (goal p99 <= 20 ms); "
      "suggestion alone: median {:.2f} ms, p99 {:.2f} ms\n",
      decision_ms.size(), writes, percentile(decision_ms, 0.5), percentile(decision_ms, 0.99),
      percentile(suggestion_ms, 0.5), percentile(suggestion_ms, 0.99));
  stop_draining();
  suggest->stop();
  std::filesystem::remove_all(directory);
}

BENCHMARK(BM_FullDecision)->Iterations(500)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace maestro
