// maestro demo --live: starts the local cluster (one deployment of the sample target app in 0.2-core pods),
// the three services as child processes of this command, and replays a stretch of a real trace (the traffic
// library's render of World Cup 98, scaled to a peak this machine carries) as open-model load: first with
// the learned policy deciding, then — replicas reset to one — the same load with the Kubernetes HPA in the
// controller's place (`maestro controller --policy hpa`). A live view shows rps, replicas, ready pods, p95
// and each decision (a status line on a terminal, plain lines otherwise). From what it measured (replicas,
// pods, client-side p95 and requests over the SLO, scaling actions) it writes the same report as
// `maestro eval`. Ctrl-C stops everything; no process is left behind.
#include "cli/demo_live.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/command.hpp"
#include "cli/stop_signals.hpp"
#include "eval/oracle.hpp"
#include "eval/report.hpp"
#include "eval/runner.hpp"
#include "eval/scenario.hpp"
#include "local/load_generator.hpp"
#include "local/load_plan.hpp"
#include "local/local_cluster.hpp"
#include "local/pod_process.hpp"
#include "net/http_client.hpp"
#include "prom/query_client.hpp"
#include "traffic/shape.hpp"
#include "traffic/splits.hpp"

namespace maestro::cli {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kNamespace = "default";
constexpr const char* kDeployment = "web";
constexpr int kIntervalSeconds = 15;  // the HPA's sync period and the policy's step, for both
constexpr int kWindowSeconds = 10;    // rate window of the suggestion server's queries and the HPA's CPU
// The deployment's pods: the target app at 2 ms of CPU a request (more with its HTTP work: the run measures
// it) in 0.2-core pods.
constexpr double kPodCores = 0.2;

std::atomic<bool> g_stop{false};

// A service of the demo: a child process whose output goes to a log file.
struct Service {
  std::string name;
  fs::path log;
  local::PodProcess process;

  void stop() {
    if (!process.running()) return;
    process.signal_group(SIGTERM);
    const auto until = Clock::now() + 5s;
    while (process.running() && Clock::now() < until) std::this_thread::sleep_for(20ms);
    if (process.running()) process.signal_group(SIGKILL);
  }
};

Service start_service(const std::string& name, std::vector<std::string> argv, const fs::path& logs) {
  Service service{name, logs / (name + ".log"), {}};
  std::error_code ignored;
  fs::remove(service.log, ignored);
  auto process = local::PodProcess::start({std::move(argv), {}, service.log});
  if (!process) throw CommandFailed(fmt::format("{}: {}", name, process.error().message));
  service.process = std::move(*process);
  return service;
}

// The port a service printed ("listening on PORT") in its log.
std::uint16_t listening_port(Service& service) {
  const auto until = Clock::now() + 30s;
  while (Clock::now() < until && !g_stop) {
    std::ifstream log(service.log);
    std::string line;
    unsigned port = 0;
    while (std::getline(log, line))
      if (std::sscanf(line.c_str(), "listening on %u", &port) == 1) return static_cast<std::uint16_t>(port);
    if (!service.process.running()) break;
    std::this_thread::sleep_for(100ms);
  }
  throw CommandFailed(fmt::format("{} did not start (see {})", service.name, service.log.string()));
}

// What one policy's run measured.
struct PhaseMeasure {
  std::vector<eval::SeriesRow> series;
  local::LoadReport load;
  std::size_t over_soft = 0;                      // answered slower than the soft SLO
  std::vector<double> arrivals;                   // per second
  std::optional<double> cpu_seconds_per_request;  // measured from Prometheus over the run
  int scaling_actions = 0;
  double pod_seconds = 0;
  int seconds_over_soft = 0, seconds_over_hard = 0;
};

// The live view: a status line every few seconds and every decision the controller logs.
class LiveView {
 public:
  explicit LiveView(std::string label) : label_(std::move(label)), tty_(::isatty(STDOUT_FILENO) != 0) {}

  void status(const eval::SeriesRow& row) {
    const std::string text = fmt::format("[{}] t={:>3.0f}s rps={:>5.1f} replicas={} ready={} p95={:>6.0f}ms",
                                         label_, row.time, row.rps, row.replicas, row.ready_pods, row.p95_ms);
    std::lock_guard lock(mutex_);
    if (tty_) {
      std::cout << "\r\033[K" << text << std::flush;
      shown_ = true;
    } else if (static_cast<int>(row.time) % 5 == 0) {
      std::cout << text << std::endl;
    }
  }

  void decision(const std::string& text) {
    std::lock_guard lock(mutex_);
    if (tty_ && shown_) std::cout << "\r\033[K";
    std::cout << "  " << label_ << " decision: " << text << std::endl;
  }

  void end() {
    std::lock_guard lock(mutex_);
    if (tty_ && shown_) std::cout << std::endl;
  }

 private:
  std::string label_;
  bool tty_;
  bool shown_ = false;
  std::mutex mutex_;
};

// New "decision"/"hold" lines of the controller's log, shortened for the view.
class DecisionTail {
 public:
  explicit DecisionTail(fs::path log) : log_(std::move(log)) {}
  std::vector<std::string> next() {
    std::ifstream in(log_);
    in.seekg(offset_);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof()) break;  // a line still being written
      offset_ = in.tellg();
      for (const char* marker : {"decision namespace=", "hold namespace="})
        if (const auto at = line.find(marker); at != std::string::npos) {
          lines.push_back(line.substr(at));
          break;
        }
    }
    return lines;
  }

 private:
  fs::path log_;
  std::streamoff offset_ = 0;
};

int pods_of(const local::LocalCluster& cluster, bool ready_only) {
  int count = 0;
  for (const auto& pod : cluster.pods())
    if (pod.deployment == kDeployment && (!ready_only || pod.phase == local::PodPhase::kReady)) ++count;
  return count;
}

// Scales back to one pod and waits until it is the only one and ready, and until the metric windows have
// forgotten the previous run.
void reset_to_one_pod(local::LocalCluster& cluster) {
  cluster.api().set_replicas(kNamespace, kDeployment, 1);
  const auto until = Clock::now() + 60s;
  while (!g_stop && Clock::now() < until && (pods_of(cluster, false) != 1 || pods_of(cluster, true) != 1))
    std::this_thread::sleep_for(200ms);
  const auto quiet_until = Clock::now() + std::chrono::seconds(kWindowSeconds + 5);
  while (!g_stop && Clock::now() < quiet_until) std::this_thread::sleep_for(200ms);
}

PhaseMeasure run_phase(const std::string& label, local::LocalCluster& cluster, const local::RatePlan& plan,
                       const std::vector<std::string>& controller_argv, const fs::path& logs,
                       const LiveDemoOptions& options) {
  LiveView view(label);
  std::cout << fmt::format("\n== {}: {} s of load, the controller deciding with {} ==", label,
                           static_cast<int>(plan.duration_seconds()), label)
            << std::endl;
  Service controller = start_service("controller-" + label, controller_argv, logs);
  DecisionTail decisions(controller.log);
  const std::size_t writes_before = cluster.api().scale_writes().size();

  PhaseMeasure measure;
  std::mutex mutex;
  local::LoadProgress last;
  local::LoadOptions load;
  load.target = fmt::format("http://127.0.0.1:{}", *cluster.service_port(kNamespace, kDeployment));
  load.concurrency = 64;
  load.progress_every = 1s;
  load.slo = std::chrono::milliseconds(static_cast<long long>(options.soft_ms));
  load.on_progress = [&](const local::LoadProgress& progress) {
    std::lock_guard lock(mutex);
    last = progress;
    measure.over_soft += progress.over_slo;
    measure.arrivals.push_back(progress.asked_rps);
    measure.seconds_over_soft += progress.p95_ms > options.soft_ms;
    measure.seconds_over_hard += progress.p95_ms > options.hard_ms;
  };
  std::thread sender([&] { measure.load = local::run_load(plan, load, options.seed, g_stop); });

  const auto start = Clock::now();
  int previous_replicas = cluster.api().replicas(kNamespace, kDeployment).value_or(1);
  for (int second = 1; second <= static_cast<int>(plan.duration_seconds()) && !g_stop; ++second) {
    const auto due = start + std::chrono::seconds(second);
    while (Clock::now() < due && !g_stop) std::this_thread::sleep_for(20ms);
    eval::SeriesRow row;
    row.time = second;
    row.replicas = cluster.api().replicas(kNamespace, kDeployment).value_or(0);
    row.ready_pods = pods_of(cluster, true);
    measure.pod_seconds += pods_of(cluster, false);
    {
      std::lock_guard lock(mutex);
      row.rps = last.asked_rps;
      row.p95_ms = last.p95_ms;
    }
    row.action = row.replicas > previous_replicas ? 2 : row.replicas < previous_replicas ? 0 : 1;
    previous_replicas = row.replicas;
    measure.series.push_back(row);
    view.status(row);
    for (const auto& line : decisions.next()) view.decision(line);
  }
  sender.join();
  view.end();
  controller.stop();
  // The pods' CPU per request over the run, as cAdvisor and the app count them.
  net::HttpClientOptions prometheus_options;
  prometheus_options.base_url = cluster.prometheus_url();
  net::HttpClient prometheus_http(prometheus_options);
  prom::PrometheusClient prometheus(prometheus_http);
  const int seconds = static_cast<int>(measure.series.size());
  if (const auto cpu = prometheus.value(fmt::format(
          R"(sum(increase(container_cpu_usage_seconds_total{{namespace="{0}",container!="",container!="POD"}}[{1}s])))"
          R"( / sum(increase(http_requests_total{{namespace="{0}"}}[{1}s])))",
          kNamespace, seconds));
      cpu && seconds > 0)
    measure.cpu_seconds_per_request = *cpu;
  measure.scaling_actions = static_cast<int>(cluster.api().scale_writes().size() - writes_before);
  return measure;
}

eval::PolicyResult policy_result(const std::string& name, eval::PolicyRole role, const std::string& note,
                                 const PhaseMeasure& m, std::uint64_t seed) {
  eval::RunScore score;
  score.seed = seed;
  const auto& load = m.load;
  const double duration = std::max(1.0, static_cast<double>(m.series.size()));
  score.arrivals = static_cast<double>(load.asked);
  score.served_requests = static_cast<double>(load.ok);
  score.dropped_requests = static_cast<double>(load.failed_status + load.failed_connection + load.timed_out +
                                               (load.asked - load.sent));
  score.requests_over_soft = static_cast<double>(m.over_soft);
  score.share_over_soft =
      load.asked > 0 ? (score.requests_over_soft + score.dropped_requests) / score.arrivals : 0;
  score.slo_violation_seconds_soft = m.seconds_over_soft;
  score.slo_violation_seconds_hard = m.seconds_over_hard;
  score.pod_hours = m.pod_seconds / 3600;
  score.scaling_actions = m.scaling_actions;
  score.scaling_actions_per_hour = m.scaling_actions * 3600 / duration;
  eval::PolicyResult result;
  result.name = name;
  result.role = role;
  result.data_note = note;
  result.runs = {score};
  result.series = m.series;
  const auto one = [](double value) { return eval::spread_of({value}); };
  result.share_over_soft = one(score.share_over_soft);
  result.slo_violation_seconds_soft = one(score.slo_violation_seconds_soft);
  result.slo_violation_seconds_hard = one(score.slo_violation_seconds_hard);
  result.pod_hours = one(score.pod_hours);
  result.dropped_requests = one(score.dropped_requests);
  result.scaling_actions = one(score.scaling_actions);
  result.scaling_actions_per_hour = one(score.scaling_actions_per_hour);
  result.mean_reward = one(0);
  result.queued_at_end = one(0);
  return result;
}

}  // namespace

void add_live_demo_options(CLI::App& demo, LiveDemoOptions& options) {
  demo.add_flag("--live", options.live,
                "Run on the local cluster instead: the learned policy, then the HPA, on the same real load "
                "(at most 15 minutes; docs/live-demo.md)");
  demo.add_option("--policy", options.policy, "--live: the policy file the model server serves")
      ->capture_default_str();
  demo.add_option("--live-out", options.out, "--live: output directory")->capture_default_str();
  demo.add_option("--live-seconds", options.duration_seconds, "--live: seconds of load per policy")
      ->check(CLI::Range(60, 360))
      ->capture_default_str();
  demo.add_option("--live-peak", options.peak_rps, "--live: the trace stretch's busiest second, requests/s")
      ->check(CLI::Range(1.0, 200.0))
      ->capture_default_str();
  demo.add_option("--live-window-start", options.window_start_unix,
                  "--live: where the World Cup 98 stretch starts, Unix seconds")
      ->capture_default_str();
}

void run_live_demo(const LiveDemoOptions& options) {
  const auto self = fs::read_symlink("/proc/self/exe");
  const auto shared = eval::locate_shared_dir(options.shared_dir, std::getenv("MAESTRO_SHARED_DIR"), self);
  if (!shared) throw CLI::ValidationError("--shared-dir", shared.error().message);
  if (!fs::exists(options.policy))
    throw CLI::ValidationError("--policy",
                               fmt::format("{} does not exist: run `maestro demo` (or `maestro train`) "
                                           "first, or give --policy FILE",
                                           options.policy));

  // The scenario: `maestro eval worldcup` moved to the stretch asked for, with the demo pods' measured cost.
  eval::ScenarioOverrides overrides;
  overrides.peak_rps = options.peak_rps;
  overrides.duration_seconds = options.duration_seconds;
  auto scenario = eval::resolve_scenario("worldcup", overrides, *shared);
  if (!scenario) throw CommandFailed(scenario.error().message);
  scenario->name = "live-worldcup";
  scenario->traffic.window_start_seconds =
      static_cast<double>(options.window_start_unix) - traffic::kWorldCupStartUnix;
  scenario->description = fmt::format(
      "World Cup 98 from Unix second {} for {} s, peak {} requests/s, replayed live against the local "
      "cluster "
      "(one deployment of the sample target app, {} cores a pod)",
      options.window_start_unix, options.duration_seconds, options.peak_rps, kPodCores);
  auto& cluster_model = scenario->cluster;
  cluster_model.bounds = {1, options.max_replicas};
  cluster_model.initial_replicas = 1;
  scenario->initial_replicas = 1;
  cluster_model.slo = {options.soft_ms, options.hard_ms};
  cluster_model.service.cpu_limit_cores = kPodCores;
  cluster_model.service.cpu_request_cores = kPodCores;
  if (auto valid = eval::validate(*scenario); !valid) throw CommandFailed(valid.error().message);
  std::mt19937_64 rng(options.seed);
  const auto rates = traffic::render_rates(scenario->traffic, options.duration_seconds, rng);
  const local::RatePlan plan = local::plan_from_rates(rates);

  const fs::path out = options.out;
  const fs::path logs = out / "logs";
  fs::create_directories(logs);
  std::cout << fmt::format("maestro demo --live: {}\n{} s per policy, ~{:.0f} requests each; logs in {}",
                           scenario->description, options.duration_seconds, plan.expected_requests(),
                           logs.string())
            << std::endl;

  // Ctrl-C and SIGTERM stop the load and the phases; everything is torn down on the way out.
  const StopOnSignals stop([] { g_stop = true; });

  // The cluster's and the services' own lines go to their logs; the terminal shows the live view.
  spdlog::set_level(spdlog::level::warn);
  local::LocalConfig config;
  config.state_dir = out / "cluster";
  config.api_listen = "127.0.0.1:0";
  config.prometheus_listen = "127.0.0.1:0";
  config.scrape_interval = 2s;
  local::LocalDeploymentConfig web;
  web.name = kDeployment;
  web.listen = "127.0.0.1:0";
  web.command = {(self.parent_path() / "maestro-target-app").string(),
                 "--listen",
                 "127.0.0.1:{port}",
                 "--cpu-ms",
                 "2",
                 "--workers",
                 "4"};
  web.startup_delay = 1s;
  web.readiness_period = 200ms;
  web.termination_grace = 5s;
  web.limits.cpu_cores = kPodCores;
  web.annotations = {{"maestro.io/autoscale", "true"},
                     {"maestro.io/hpa-target-utilization", std::to_string(options.hpa_target_percent)},
                     {"latencySoftConstraint", fmt::format("{}", options.soft_ms)},
                     {"latencyHardConstraint", fmt::format("{}", options.hard_ms)}};
  config.deployments = {web};
  local::LocalCluster cluster(config);
  if (auto started = cluster.start(); !started) throw CommandFailed(started.error().message);
  if (!cluster.cgroups())
    std::cout << "note: cgroups are not writable here: pods run without CPU limits, and the HPA, which "
                 "needs a CPU request, holds"
              << std::endl;

  Service model = start_service(
      "model", {self.string(), "serve", "model", "--policy", options.policy, "--listen", "127.0.0.1:0"},
      logs);
  const auto model_port = listening_port(model);
  Service suggest =
      start_service("suggest",
                    {self.string(), "serve", "suggest", "--listen", "127.0.0.1:0", "--prometheus",
                     cluster.prometheus_url(), "--model", fmt::format("http://127.0.0.1:{}", model_port),
                     "--kubeconfig", cluster.kubeconfig().string(), "--window",
                     fmt::format("{}s", kWindowSeconds), "--step-seconds", std::to_string(kIntervalSeconds)},
                    logs);
  const auto suggest_port = listening_port(suggest);
  std::ofstream(out / "controller.yaml") << fmt::format(
      "suggestion_server: http://127.0.0.1:{}\nlisten: 127.0.0.1:0\nkubernetes:\n  kubeconfig: {}\n"
      "prometheus:\n  url: {}\n  rate_window_seconds: {}\ndefaults:\n  interval_seconds: {}\n"
      "  min_replicas: 1\n  max_replicas: {}\ndiscovery:\n  namespace: {}\n",
      suggest_port, fs::absolute(cluster.kubeconfig()).string(), cluster.prometheus_url(), kWindowSeconds,
      kIntervalSeconds, options.max_replicas, kNamespace);
  const std::vector<std::string> controller = {self.string(), "controller", "--config",
                                               (out / "controller.yaml").string()};

  reset_to_one_pod(cluster);
  const PhaseMeasure learned = run_phase("maestro", cluster, plan, controller, logs, options);
  reset_to_one_pod(cluster);
  auto hpa_argv = controller;
  hpa_argv.insert(hpa_argv.end(), {"--policy", "hpa"});
  const PhaseMeasure hpa = g_stop ? PhaseMeasure{} : run_phase("hpa", cluster, plan, hpa_argv, logs, options);
  suggest.stop();
  model.stop();
  cluster.stop();
  if (g_stop) throw CommandFailed("interrupted: everything stopped, no report written", 130);

  eval::Evaluation evaluation;
  evaluation.scenario = *scenario;
  evaluation.seeds = {options.seed};
  evaluation.policies = {
      policy_result("maestro", eval::PolicyRole::kEvaluated, "live: " + options.policy, learned,
                    options.seed),
      policy_result(fmt::format("hpa-{}", options.hpa_target_percent), eval::PolicyRole::kBaseline,
                    "live: the Kubernetes HPA in the controller", hpa, options.seed)};
  // The oracle's bound under the simulator's model of these pods (their CPU per request as measured in the
  // first run), for the arrivals that run measured.
  if (learned.cpu_seconds_per_request) {
    evaluation.scenario.cluster.service.cpu_seconds_per_request = *learned.cpu_seconds_per_request;
    evaluation.scenario.description +=
        fmt::format(", measured {:.2f} ms of CPU a request", *learned.cpu_seconds_per_request * 1000);
  }
  const auto bound = eval::solve_oracle(eval::oracle_problem(evaluation.scenario, learned.arrivals));
  evaluation.oracle.pod_hours = {bound.pod_seconds / 3600};
  evaluation.oracle.summary = eval::spread_of(evaluation.oracle.pod_hours);
  evaluation.oracle.unmeetable_seconds = bound.unmeetable_seconds;
  if (auto ok = eval::write_outputs(evaluation, out); !ok) throw CommandFailed(ok.error().message);
  std::cout << "\n" << eval::results_table(evaluation);
  std::cout << fmt::format("report: {}\n", (out / "report.html").string());
}

}  // namespace maestro::cli
