// One full decision as the controller asks for it, end to end on loopback: GET /suggest on the suggestion
// server → the deployment from the Kubernetes API test double → four PromQL queries to a real Prometheus
// (scraping the target app under load and a cAdvisor stand-in) → POST /predict to the model server with a
// policy file. Prints the median and p99 of the decision's latency (goal, issue 5: p99 ≤ 20 ms including
// the scale patch, which the controller adds).
#include <algorithm>
#include <filesystem>
#include <fstream>

#include <benchmark/benchmark.h>

#include "../tests/support/prometheus_container_exporter.hpp"
#include "../tests/support/prometheus_server.hpp"
#include "../tests/support/target_app_load.hpp"
#include "../tests/support/target_app_process.hpp"
#include "kube/client.hpp"
#include "kube/config.hpp"
#include "local/fake_kube_api.hpp"
#include "services/model_server/model_server.hpp"
#include "services/model_server/nn_policy.hpp"
#include "services/suggestion_server/kube_deployment_source.hpp"
#include "services/suggestion_server/model_client.hpp"
#include "services/suggestion_server/suggestion_server.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;

void BM_FullDecision(benchmark::State& state) {
  const auto directory =
      std::filesystem::temp_directory_path() / fmt::format("maestro-decision-{}", ::getpid());
  std::filesystem::create_directories(directory);
  const auto policy = directory / "policy.maestro";
  auto init = testing::ChildProcess::spawn({std::string(MAESTRO_BINARY_DIR) + "/maestro", "policy", "init",
                                            "--out", policy.string(), "--seed", "1"});
  if (!init || init->wait(30s).value_or(-1) != 0) return state.SkipWithError("maestro policy init failed");

  auto app = testing::TargetApp::start({"--cpu-ms", "0.5"});
  if (!app) return state.SkipWithError(app.error().message.c_str());
  testing::ContainerMetricsExporter exporter(app->process.pid(), "shop", "web-5d8f7c9b4-x7k2p", "app");
  if (!exporter.start()) return state.SkipWithError("exporter did not start");
  auto prometheus = testing::PrometheusServer::start({
      testing::ScrapeTarget{.job = "app",
                            .address = fmt::format("127.0.0.1:{}", app->port),
                            .metrics_path = "/metrics",
                            .labels = {{"namespace", "shop"}, {"pod", "web-5d8f7c9b4-x7k2p"}},
                            .honor_labels = false},
      testing::ScrapeTarget{.job = "kubelet-cadvisor",
                            .address = fmt::format("127.0.0.1:{}", exporter.port()),
                            .metrics_path = testing::ContainerMetricsExporter::kPath,
                            .labels = {},
                            .honor_labels = true},
  });
  if (!prometheus) return state.SkipWithError(prometheus.error().message.c_str());
  testing::LoadGenerator load(
      {.base_url = fmt::format("http://127.0.0.1:{}", app->port),
       .clients = 1,
       .requests_per_second_per_client = 20,
       .max_duration = 300s,
       .path = [](std::size_t i) { return fmt::format("/work?wait_ms={}", i % 10); }});
  load.start();

  local::FakeKubeApi kube_api("bench-token");
  kube_api.put_deployment(
      {.namespace_ = "shop", .name = "web", .replicas = 2, .labels = {}, .annotations = {}});
  auto kube_port = kube_api.start();
  if (!kube_port) return state.SkipWithError("kube API did not start");
  net::HttpClientOptions kube_options;
  kube_options.base_url = kube_api.url();
  kube_options.bearer_token = [] { return Result<std::string>("bench-token"); };
  kube::KubeClient kube(kube_options);
  suggestion_server::KubeDeploymentSource deployments(kube);

  model_server::ModelServer model({.policy_file = policy,
                                   .loader = model_server::load_policy_file,
                                   .http = {},
                                   .watch_interval = std::nullopt});
  if (!model.load()) return state.SkipWithError("policy did not load");
  auto model_port = model.listen("127.0.0.1:0");
  model.start();
  net::HttpClientOptions model_options;
  model_options.base_url = fmt::format("http://127.0.0.1:{}", *model_port);
  net::HttpClient model_http(model_options);
  suggestion_server::HttpModelClient model_client(model_http);

  prom::StateBuilder builder(prometheus->get()->client(),
                             {.window = "10s", .templates = prom::default_templates()});
  base::RealClock clock;
  suggestion_server::SuggestionServer suggest(deployments, builder, model_client, clock);
  auto suggest_port = suggest.listen("127.0.0.1:0");
  suggest.start();
  net::HttpClientOptions controller_options;
  controller_options.base_url = fmt::format("http://127.0.0.1:{}", *suggest_port);
  controller_options.retry.max_attempts = 1;
  net::HttpClient controller(controller_options);

  // Poll until every metric has data (a few scrapes), with a deadline.
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < until) {
    auto answer = controller.get("/suggest?deployment=web&namespace=shop");
    if (answer && answer->status == 200) break;
    std::this_thread::sleep_for(500ms);
  }

  std::vector<double> milliseconds;
  for (auto _ : state) {
    const auto started = std::chrono::steady_clock::now();
    auto answer = controller.get("/suggest?deployment=web&namespace=shop");
    const auto took = std::chrono::steady_clock::now() - started;
    if (!answer || answer->status != 200) return state.SkipWithError("a decision failed");
    milliseconds.push_back(std::chrono::duration<double, std::milli>(took).count());
    state.SetIterationTime(std::chrono::duration<double>(took).count());
  }
  std::sort(milliseconds.begin(), milliseconds.end());
  const auto quantile = [&](double q) {
    return milliseconds[std::min(milliseconds.size() - 1, static_cast<std::size_t>(q * milliseconds.size()))];
  };
  state.counters["p50_ms"] = quantile(0.5);
  state.counters["p99_ms"] = quantile(0.99);
  fmt::print("full decision over {} runs: median {:.2f} ms, p99 {:.2f} ms\n", milliseconds.size(),
             quantile(0.5), quantile(0.99));
  load.stop();
  suggest.stop();
  model.stop();
  std::filesystem::remove_all(directory);
}
BENCHMARK(BM_FullDecision)->Iterations(500)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace maestro
