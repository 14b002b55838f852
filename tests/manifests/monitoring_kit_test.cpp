// The monitoring kit (deploy/monitoring/) against the real tools. promtool checks the PrometheusRules' rules
// and runs their unit tests (deploy/monitoring/tests/); then a real Prometheus evaluates the rules while
// scraping the whole loop on loopback — the latency sidecar in front of the target app (as pod shop/web-…),
// a cAdvisor stand-in for that pod, the model server serving a policy, `maestro serve suggest` and
// `maestro controller` managing shop/web through the Kubernetes API test double — and every recording rule,
// alert and dashboard query (panels and template variables) must come back with status success. Which ones
// return series is printed and pinned.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../support/prometheus_container_exporter.hpp"
#include "../support/prometheus_server.hpp"
#include "../support/target_app_process.hpp"
#include "local/fake_kube_api.hpp"
#include "net/http_client.hpp"
#include "prom/state_builder.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;

const std::filesystem::path kMonitoring = std::filesystem::path(MAESTRO_SOURCE_DIR) / "deploy/monitoring";
const std::string kMaestro = std::string(MAESTRO_BINARY_DIR) + "/maestro";
constexpr const char* kPromtool = "/usr/bin/promtool";
// The managed deployment the SLO example names, and one of its pods' names as a Deployment makes them.
constexpr const char* kNamespace = "shop";
constexpr const char* kDeployment = "web";
constexpr const char* kPod = "web-7d9f8b6c5d-x2x4z";

class ScratchDirectory {
 public:
  ScratchDirectory() {
    char pattern[] = "/tmp/maestro-monitoring-kit-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~ScratchDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A PrometheusRule's spec is a Prometheus rule file: written to `to`, for promtool and Prometheus.
void write_rule_file(const std::filesystem::path& prometheus_rule, const std::filesystem::path& to) {
  YAML::Emitter rules;
  rules << YAML::LoadFile(prometheus_rule.string())["spec"];
  std::ofstream(to) << rules.c_str() << "\n";
}

// Writes the rule files the unit tests name (maestro.rules.yaml, slo.rules.yaml) into `directory`.
std::vector<std::filesystem::path> write_rule_files(const std::filesystem::path& directory) {
  const std::vector<std::filesystem::path> rule_files = {directory / "maestro.rules.yaml",
                                                         directory / "slo.rules.yaml"};
  write_rule_file(kMonitoring / "prometheus-rule.yaml", rule_files[0]);
  write_rule_file(kMonitoring / "slo-example.yaml", rule_files[1]);
  return rule_files;
}

struct Finished {
  int exit_code = -1;
  std::string output;
};

Finished run(const std::vector<std::string>& argv, const std::filesystem::path& stderr_path) {
  auto child = testing::ChildProcess::spawn(argv, stderr_path.string());
  if (!child) return {.exit_code = -1, .output = child.error().message};
  Finished finished;
  while (auto line = child->read_line(60s)) finished.output += *line + "\n";
  finished.exit_code = child->wait(60s).value_or(-1);
  std::ifstream errors(stderr_path);
  finished.output.append(std::istreambuf_iterator<char>(errors), {});
  return finished;
}

TEST(MonitoringKit, PromtoolChecksTheRulesAndPassesTheirUnitTests) {
  ScratchDirectory scratch;
  const auto rule_files = write_rule_files(scratch.path());
  const auto checked = run({kPromtool, "check", "rules", rule_files[0].string(), rule_files[1].string()},
                           scratch.path() / "err");
  EXPECT_EQ(checked.exit_code, 0) << checked.output;

  std::vector<std::string> unit_tests = {kPromtool, "test", "rules"};
  for (const auto& entry : std::filesystem::directory_iterator(kMonitoring / "tests")) {
    const auto copy = scratch.path() / entry.path().filename();
    std::filesystem::copy_file(entry.path(), copy);
    unit_tests.push_back(copy.string());
  }
  ASSERT_GE(unit_tests.size(), 4u) << "no unit tests in " << (kMonitoring / "tests");
  const auto tested = run(unit_tests, scratch.path() / "err");
  EXPECT_EQ(tested.exit_code, 0) << tested.output;
}

struct Query {
  std::string name;  // the rule, or the panel and its legend, or the template variable
  std::string promql;
};

std::vector<Query> rule_queries(const std::vector<std::filesystem::path>& rule_files) {
  std::vector<Query> queries;
  for (const auto& file : rule_files)
    for (const auto& group : YAML::LoadFile(file.string())["groups"])
      for (const auto& rule : group["rules"]) {
        const bool alert = rule["alert"].IsDefined();
        queries.push_back({.name = fmt::format("{} {}", alert ? "alert" : "record",
                                               (alert ? rule["alert"] : rule["record"]).as<std::string>()),
                           .promql = rule["expr"].as<std::string>()});
      }
  return queries;
}

// The dashboard's queries as Grafana sends them for shop/web (a rate interval of 1m); a template variable's
// label_values(SELECTOR, LABEL) is the PromQL group by (LABEL) (SELECTOR).
std::vector<Query> dashboard_queries() {
  std::ifstream file(kMonitoring / "maestro-dashboard.json");
  const auto dashboard = nlohmann::json::parse(file);
  const auto substitute = [](std::string promql) {
    for (const auto& [variable, value] : std::vector<std::pair<std::string, std::string>>{
             {"$__rate_interval", "1m"}, {"$namespace", kNamespace}, {"$deployment", kDeployment}})
      for (auto at = promql.find(variable); at != std::string::npos; at = promql.find(variable, at))
        promql.replace(at, variable.size(), value);
    return promql;
  };
  std::vector<Query> queries;
  static const std::regex kLabelValues(R"(^label_values\((.*), *(\w+)\)$)");
  for (const auto& variable : dashboard["templating"]["list"]) {
    if (variable["type"] != "query") continue;
    const std::string definition = variable["definition"];
    std::smatch match;
    EXPECT_TRUE(std::regex_match(definition, match, kLabelValues)) << definition;
    if (match.empty()) continue;
    queries.push_back(
        {.name = fmt::format("variable ${}", variable["name"].get<std::string>()),
         .promql = substitute(fmt::format("group by ({}) ({})", match[2].str(), match[1].str()))});
  }
  for (const auto& panel : dashboard["panels"])
    for (const auto& target : panel.value("targets", nlohmann::json::array()))
      queries.push_back({.name = fmt::format("panel \"{}\" {}", panel["title"].get<std::string>(),
                                             target.value("legendFormat", "")),
                         .promql = substitute(target["expr"])});
  return queries;
}

struct Answer {
  std::string status;  // Prometheus' "success" or "error", or what went wrong on the way
  std::size_t series = 0;
};

Answer instant_query(testing::PrometheusServer& prometheus, const std::string& promql) {
  auto response = prometheus.http().get("/api/v1/query?query=" + net::url_encode(promql));
  if (!response) return {.status = response.error().message};
  const auto body = nlohmann::json::parse(response->body, nullptr, false);
  if (body.is_discarded()) return {.status = fmt::format("HTTP {}: not JSON", response->status)};
  if (body.value("status", "") != "success") return {.status = body.dump()};
  return {.status = "success", .series = body["data"]["result"].size()};
}

// `maestro sidecar` in front of `upstream_port`; its ports (traffic, metrics) from its first line.
std::optional<std::pair<unsigned, unsigned>> read_sidecar_ports(testing::ChildProcess& sidecar) {
  while (auto line = sidecar.read_line(10s)) {
    unsigned port = 0, metrics_port = 0;
    if (std::sscanf(line->c_str(), "listening on %u metrics on %u", &port, &metrics_port) == 2)
      return std::pair{port, metrics_port};
  }
  return std::nullopt;
}

TEST(MonitoringKit, EveryRuleAndDashboardQueryRunsOnPrometheusScrapingTheServices) {
  ScratchDirectory scratch;
  const auto rule_files = write_rule_files(scratch.path());

  // The model server, serving a fresh policy.
  const auto policy = scratch.path() / "policy.maestro";
  ASSERT_EQ(
      run({kMaestro, "policy", "init", "--out", policy.string(), "--seed", "1"}, scratch.path() / "init.log")
          .exit_code,
      0);
  auto model_server = testing::ChildProcess::spawn(
      {kMaestro, "serve", "model", "--policy", policy.string(), "--listen", "127.0.0.1:0"},
      (scratch.path() / "model-server.log").string());
  ASSERT_TRUE(model_server.has_value());
  const auto model_port = testing::read_listening_port(*model_server);
  ASSERT_TRUE(model_port.has_value()) << "maestro serve model did not start";
  net::HttpClientOptions model_options;
  model_options.base_url = fmt::format("http://127.0.0.1:{}", *model_port);
  model_options.retry.max_attempts = 1;
  net::HttpClient model(model_options);

  // The target app behind the latency sidecar, and its container's CPU and memory as cAdvisor serves them.
  auto app = testing::TargetApp::start({"--cpu-ms", "0.2"});
  ASSERT_TRUE(app.has_value()) << app.error().message;
  auto sidecar =
      testing::ChildProcess::spawn({kMaestro, "sidecar", "--listen", "127.0.0.1:0", "--metrics-listen",
                                    "127.0.0.1:0", "--upstream", fmt::format("127.0.0.1:{}", app->port)});
  ASSERT_TRUE(sidecar.has_value());
  const auto sidecar_ports = read_sidecar_ports(*sidecar);
  ASSERT_TRUE(sidecar_ports.has_value()) << "maestro sidecar did not start";
  net::HttpClientOptions app_options;
  app_options.base_url = fmt::format("http://127.0.0.1:{}", sidecar_ports->first);
  app_options.retry.max_attempts = 1;
  net::HttpClient through_sidecar(app_options);
  testing::ContainerMetricsExporter cadvisor(app->process.pid(), kNamespace, kPod, "app");
  ASSERT_TRUE(cadvisor.start().has_value());

  // The Kubernetes API test double with shop/web, for the suggestion server and the controller.
  local::FakeKubeApi kube("kit-token");
  auto web = local::fake_deployment(kNamespace, kDeployment, 1);
  // One process stands for every pod here, so the per-pod freshness check is switched off, as in the
  // other loopback tests.
  web.annotations = {{"latencySoftConstraint", "200"},
                     {"latencyHardConstraint", "1000"},
                     {"maestro.io/query-pods-reporting", prom::kNoPodsCheck}};
  kube.put_deployment(web);
  ASSERT_TRUE(kube.start().has_value());
  std::ofstream(scratch.path() / "token") << "kit-token\n";

  // Prometheus starts before the suggestion server (which is given its URL): their ports are chosen here.
  const auto suggest_port = testing::free_loopback_port();
  const auto controller_port = testing::free_loopback_port();

  // Jobs and target labels as the kit's ServiceMonitors and PodMonitor give them under the Prometheus
  // Operator.
  auto prometheus = testing::PrometheusServer::start(
      {
          testing::ScrapeTarget{
              .job = "maestro-suggestion-server",
              .address = fmt::format("127.0.0.1:{}", suggest_port),
              .labels = {{"namespace", "maestro"}, {"pod", "maestro-suggestion-server-5d8f7c9b4-k2x7p"}},
              .honor_labels = false},
          testing::ScrapeTarget{.job = "maestro-controller-metrics",
                                .address = fmt::format("127.0.0.1:{}", controller_port),
                                .labels = {{"pod", "maestro-controller-6b9c8d7f5-z4q8w"}},
                                .honor_labels = true},
          testing::ScrapeTarget{
              .job = "maestro-model-server",
              .address = fmt::format("127.0.0.1:{}", *model_port),
              .labels = {{"namespace", "maestro"}, {"pod", "maestro-model-server-6c8b5d4f9-q7w2r"}},
              .honor_labels = false},
          testing::ScrapeTarget{.job = "maestro/maestro-latency-metrics",
                                .address = fmt::format("127.0.0.1:{}", sidecar_ports->second),
                                .labels = {{"namespace", kNamespace}, {"pod", kPod}},
                                .honor_labels = false},
          testing::ScrapeTarget{.job = "kubelet",
                                .address = fmt::format("127.0.0.1:{}", cadvisor.port()),
                                .metrics_path = testing::ContainerMetricsExporter::kPath,
                                .labels = {},
                                .honor_labels = true},
      },
      1s, rule_files);
  ASSERT_TRUE(prometheus.has_value()) << prometheus.error().message;

  auto suggest = testing::ChildProcess::spawn(
      {kMaestro, "serve", "suggest", "--listen", fmt::format("127.0.0.1:{}", suggest_port), "--prometheus",
       (*prometheus)->url(), "--model", fmt::format("http://127.0.0.1:{}", *model_port), "--kubernetes",
       kube.url(), "--kube-token-file", (scratch.path() / "token").string(), "--window", "10s",
       "--step-seconds", "1"},
      (scratch.path() / "suggest.log").string());
  ASSERT_TRUE(suggest.has_value()) << suggest.error().message;
  ASSERT_TRUE(testing::read_listening_port(*suggest).has_value()) << "maestro serve suggest did not start";

  // Traffic through the sidecar and predictions, until `promql` all return series (polling, with a deadline).
  const std::string observation =
      R"({"cpu_usage":150,"memory_usage":300000000,"replicas":3,"latency":12.5,"rps":100})";
  const auto seen = [&](const std::string& promql) {
    const auto answer = instant_query(**prometheus, promql);
    return answer.status == "success" && answer.series > 0;
  };
  const auto drive_until = [&](const std::vector<std::string>& promql) {
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (!std::ranges::all_of(promql, seen) && std::chrono::steady_clock::now() < until) {
      for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(through_sidecar.get("/work")->status, 200);
        EXPECT_EQ(model.post("/predict", observation)->status, 200);
      }
      std::this_thread::sleep_for(200ms);
    }
  };
  // The controller starts once the suggestion server's queries (10 s window) have data, so that its first
  // suggestion is not refused for want of it.
  const std::string pods = fmt::format(R"(namespace="{}",pod="{}")", kNamespace, kPod);
  drive_until({fmt::format("rate(http_requests_total{{{}}}[10s]) > 0", pods),
               fmt::format("rate(http_request_duration_seconds_count{{{}}}[10s]) > 0", pods),
               fmt::format(R"(rate(container_cpu_usage_seconds_total{{{},container="app"}}[10s]))", pods),
               fmt::format(R"(last_over_time(container_memory_working_set_bytes{{{},container="app"}}[10s]))",
                           pods)});

  std::ofstream(scratch.path() / "controller.yaml")
      << fmt::format(R"(
suggestion_server: http://127.0.0.1:{}
listen: 127.0.0.1:{}
kubernetes:
  server: {}
  token_file: token
defaults:
  interval_seconds: 1
  min_replicas: 1
  max_replicas: 4
deployments:
  - namespace: {}
    name: {}
)",
                     suggest_port, controller_port, kube.url(), kNamespace, kDeployment);
  auto controller = testing::ChildProcess::spawn(
      {kMaestro, "controller", "--config", (scratch.path() / "controller.yaml").string()},
      (scratch.path() / "controller.log").string());
  ASSERT_TRUE(controller.has_value()) << controller.error().message;
  // Both log a line per decision to stdout: drained, so that neither blocks on a full pipe.
  std::atomic<bool> draining{true};
  std::thread drain([&] {
    while (draining) {
      controller->read_line(100ms);
      suggest->read_line(100ms);
    }
  });

  drive_until({"maestro:http_requests:rate1m > 0", "maestro:http_request_duration_seconds:p95_1m",
               "sum(rate(maestro_model_actions_total[1m])) > 0",
               "sum(rate(maestro_suggestions_total[1m])) > 0",
               "sum(rate(maestro_controller_decisions_total[1m])) > 0",
               R"(up{job="maestro-controller-metrics"} == 1)"});

  // What returns series with the loop running and healthy: every other query must succeed and be empty (no
  // alert fires; nothing failed, so there is no failure by cause).
  const std::set<std::string> with_series = {
      "record maestro:http_requests:rate1m",
      "record maestro:http_request_duration_seconds:p95_1m",
      "record maestro:latency_soft_slo_seconds",
      "variable $namespace",
      "variable $deployment",
      "panel \"Replicas and ready pods\" desired (MAESTRO)",
      "panel \"Decisions by action and result\" {{action}} → {{result}}",
      "panel \"Suggestions by action\" {{action}}",
      "panel \"Time to decide (p95)\" suggestion",
      "panel \"Time to decide (p95)\" reconcile",
      "panel \"Managed deployments\" managed",
      "panel \"Requests per second\" all",
      "panel \"Requests per second\" {{code}}",
      "panel \"p95 latency against the soft SLO\" p95",
      "panel \"p95 latency against the soft SLO\" soft SLO",
      "panel \"Replicas and ready pods\" running",
      "panel \"Replicas and ready pods\" ready (scraped)",
      "panel \"CPU and memory\" CPU (% of a core)",
      "panel \"CPU and memory\" memory (bytes)",
      "panel \"The policy's actions\" {{action}}",
      "panel \"Policy served and reloads\" {{pod}} serves {{version}}",
      "panel \"Policy served and reloads\" reload {{result}}",
  };
  auto queries = rule_queries(rule_files);
  const auto panels = dashboard_queries();
  queries.insert(queries.end(), panels.begin(), panels.end());
  std::set<std::string> names;
  for (const auto& query : queries) {
    names.insert(query.name);
    const auto answer = instant_query(**prometheus, query.promql);
    std::printf("%-8s %3zu series  %s\n", answer.status == "success" ? "success" : "FAILED", answer.series,
                query.name.c_str());
    EXPECT_EQ(answer.status, "success") << query.name << ": " << query.promql;
    EXPECT_EQ(answer.series > 0, with_series.contains(query.name))
        << query.name << (answer.series > 0 ? " returned series" : " returned none") << ": " << query.promql;
  }
  for (const auto& name : with_series) EXPECT_TRUE(names.contains(name)) << "no query named " << name;
  draining = false;
  drain.join();
}

}  // namespace
}  // namespace maestro
