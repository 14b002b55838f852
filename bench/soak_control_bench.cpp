// Soak of the control loop (issue 11, item 4): the model server, the suggestion server and the controller run
// as the processes they are in production (`maestro serve model`, `maestro serve suggest`, `maestro
// controller`), with 1,000 deployments on the Kubernetes API test double and a stand-in Prometheus (both in
// this process), at the controller's real 15 s interval, for MAESTRO_SOAK_MINUTES minutes (10 by default).
// The policy scales up while the request rate is high and down while it is low; the rate flips every minute,
// so that every interval writes. Faults are injected for the first 40 s of a minute, in turn: none,
// Prometheus slow (1.5 s a query), Prometheus down (503), the model server down (killed, restarted on its
// port), Kubernetes 409 on every scale write, Kubernetes 500 on everything; the last minute has none.
//
// Per minute: the fault, reconciles and decisions per interval, scale writes, holds whose cause is the fault
// injected (within it or the two intervals after it) and every other hold or error (must be 0), the p99 of
// the controller's reconcile and of the suggestion server's /suggest (histogram bucket upper bounds, from
// their /metrics), the RSS of the three processes, and whether every deployment is within [1, 10].
//
//   bench/soak.sh --part control [--minutes N]     (builds nothing: build maestro and bench_soak_control)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "../tests/support/fake_prometheus.hpp"
#include "../tests/support/prometheus_container_exporter.hpp"
#include "../tests/support/target_app_process.hpp"
#include "../tests/support/threshold_policy.hpp"
#include "local/fake_kube_api.hpp"
#include "net/http_client.hpp"
#include "nn/policy_file.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kDeployments = 1000;
constexpr int kMinReplicas = 1;
constexpr int kMaxReplicas = 10;
constexpr auto kInterval = 15s;
constexpr auto kFaultLasts = 40s;
// A hold is the fault's if it comes while the fault lasts or within two intervals (and a timeout) after.
constexpr auto kRecoveryGrace = 2 * kInterval + 3s;
constexpr double kHighRps = 150;  // the policy scales up over 100 requests/s and down under 50
constexpr double kLowRps = 20;

// A child process whose stdout is read on a thread of its own (so that it never blocks on a full pipe),
// each line handed to `on_line`.
class Service {
 public:
  Service(std::vector<std::string> argv, std::string stderr_path,
          std::function<void(const std::string&)> on_line = {})
      : argv_(std::move(argv)), stderr_path_(std::move(stderr_path)), on_line_(std::move(on_line)) {}
  ~Service() { stop(); }

  // Starts it and waits for the line that names its port ("listening on PORT" or "... port PORT").
  Result<std::uint16_t> start() {
    auto child = testing::ChildProcess::spawn(argv_, stderr_path_);
    if (!child) return std::unexpected(child.error());
    process_ = std::move(*child);
    std::uint16_t port = 0;
    for (const auto until = Clock::now() + 20s; port == 0 && Clock::now() < until;) {
      const auto line = process_.read_line(1s);
      if (!line) continue;
      if (const auto at = line->rfind("port "); at != std::string::npos)
        port = static_cast<std::uint16_t>(std::atoi(line->c_str() + at + 5));
      else if (const auto listening = line->rfind("listening on "); listening != std::string::npos)
        port = static_cast<std::uint16_t>(std::atoi(line->c_str() + listening + 13));
    }
    if (port == 0) return fail("{} did not say which port it listens on", argv_[0]);
    draining_ = true;
    drain_ = std::thread([this] {
      while (draining_)
        if (auto line = process_.read_line(200ms); line && on_line_) on_line_(*line);
    });
    return port;
  }
  void stop() {
    draining_ = false;
    if (drain_.joinable()) drain_.join();
    process_.stop();
  }
  void kill() {
    process_.signal(SIGKILL);
    stop();
  }
  pid_t pid() const { return process_.pid(); }
  bool running() { return process_.running(); }

 private:
  std::vector<std::string> argv_;
  std::string stderr_path_;
  std::function<void(const std::string&)> on_line_;
  testing::ChildProcess process_;
  std::atomic<bool> draining_{false};
  std::thread drain_;
};

// A histogram's cumulative bucket counts by upper bound (summed over its other labels), read from /metrics.
std::map<double, double> histogram_buckets(const std::string& metrics_text, const std::string& name) {
  std::map<double, double> buckets;
  std::istringstream lines(metrics_text);
  const std::string prefix = name + "_bucket{";
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(prefix)) continue;
    const auto le = line.find("le=\"");
    const auto close = line.rfind('}');
    if (le == std::string::npos || close == std::string::npos) continue;
    const std::string bound = line.substr(le + 4, line.find('"', le + 4) - le - 4);
    buckets[bound == "+Inf" ? std::numeric_limits<double>::infinity() : std::stod(bound)] +=
        std::stod(line.substr(close + 1));
  }
  return buckets;
}

// The upper bound of the bucket holding the 99th percentile of what was observed between two readings.
double p99_bound(const std::map<double, double>& before, const std::map<double, double>& after) {
  if (after.empty()) return 0;
  const double total = after.rbegin()->second - (before.empty() ? 0 : before.rbegin()->second);
  if (total <= 0) return 0;
  for (const auto& [bound, count] : after) {
    const auto earlier = before.find(bound);
    if (count - (earlier == before.end() ? 0 : earlier->second) >= 0.99 * total) return bound;
  }
  return std::numeric_limits<double>::infinity();
}

std::string load_average() {
  std::ifstream load("/proc/loadavg");
  std::string one, five, fifteen;
  load >> one >> five >> fifteen;
  return fmt::format("{} {} {} on {} cores", one, five, fifteen, std::thread::hardware_concurrency());
}

struct Fault {
  std::string name;
  std::set<std::string> causes;  // the holds and errors it may cause
  std::function<void()> inject;
  std::function<void()> clear;
};

struct LoggedHold {
  Clock::time_point at;
  std::string cause;
  std::string line;
};

void BM_SoakControlLoop(benchmark::State& state) {
  const char* minutes_env = std::getenv("MAESTRO_SOAK_MINUTES");
  const int minutes = std::max(2, minutes_env ? std::atoi(minutes_env) : 10);
  const std::string maestro = std::string(MAESTRO_BINARY_DIR) + "/maestro";
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("maestro-soak-{}", ::getpid());
  std::filesystem::create_directories(dir);

  local::FakeKubeApi api("soak-token", 32);
  for (int i = 0; i < kDeployments; ++i) {
    auto deployment = local::fake_deployment(fmt::format("team-{}", i % 10), fmt::format("app-{}", i), 5);
    deployment.annotations["maestro.io/autoscale"] = "true";
    api.put_deployment(deployment);
  }
  testing::FakePrometheus prometheus({.io_threads = 2, .handler_threads = 32});
  prometheus.set({.cpu_usage = 80, .memory_usage = 200e6, .replicas = 5, .latency = 20, .rps = kHighRps});
  if (!api.start() || !prometheus.start()) {
    state.SkipWithError("the Kubernetes API double or the stand-in Prometheus did not start");
    return;
  }
  std::ofstream(dir / "kube-token") << "soak-token";
  if (!nn::write_policy_file(dir / "policy.maestro", testing::rps_threshold_policy(100, 50))) {
    state.SkipWithError("cannot write the policy file");
    return;
  }

  std::mutex log_mutex;
  std::vector<LoggedHold> holds;
  std::atomic<long> decisions{0}, scaled{0};
  const auto controller_line = [&](const std::string& line) {
    if (line.find("decision namespace=") != std::string::npos) {
      ++decisions;
      if (line.find("result=scaled") != std::string::npos) ++scaled;
      return;
    }
    // "hold … cause=X", "discovery failed …", "event failed …": every error the controller logs.
    const auto cause_at = line.find("cause=");
    std::string cause;
    if (cause_at != std::string::npos)
      cause = line.substr(cause_at + 6, line.find(' ', cause_at) - cause_at - 6);
    else if (line.find("discovery failed") != std::string::npos)
      cause = "discovery_failed";
    else if (line.find("event failed") != std::string::npos)
      cause = "event_failed";
    else if (line.find("[error]") != std::string::npos || line.find("[critical]") != std::string::npos)
      cause = "error_line";
    if (cause.empty()) return;
    std::lock_guard lock(log_mutex);
    holds.push_back({Clock::now(), cause, line});
  };

  Service model(
      {maestro, "serve", "model", "--policy", (dir / "policy.maestro").string(), "--listen", "127.0.0.1:0"},
      (dir / "model.stderr").string());
  const auto model_port = model.start();
  if (!model_port) {
    state.SkipWithError(model_port.error().message.c_str());
    return;
  }
  const std::string model_listen = fmt::format("127.0.0.1:{}", *model_port);
  std::unique_ptr<Service> restarted_model;
  Service suggest({maestro, "serve", "suggest", "--listen", "127.0.0.1:0", "--prometheus", prometheus.url(),
                   "--model", fmt::format("http://{}", model_listen), "--kubernetes", api.url(),
                   "--kube-token-file", (dir / "kube-token").string()},
                  (dir / "suggest.stderr").string());
  const auto suggest_port = suggest.start();
  if (!suggest_port) {
    state.SkipWithError(suggest_port.error().message.c_str());
    return;
  }
  std::ofstream(dir / "controller.yaml")
      << fmt::format(R"(
suggestion_server: http://127.0.0.1:{}
listen: 127.0.0.1:0
workers: 8
kubernetes:
  server: {}
  token: soak-token
defaults:
  interval_seconds: {}
  min_replicas: {}
  max_replicas: {}
discovery:
  refresh_seconds: 60
)",
                     *suggest_port, api.url(), kInterval.count(), kMinReplicas, kMaxReplicas);
  Service controller({maestro, "controller", "--config", (dir / "controller.yaml").string()},
                     (dir / "controller.stderr").string(), controller_line);
  const auto controller_port = controller.start();
  if (!controller_port) {
    state.SkipWithError(controller_port.error().message.c_str());
    return;
  }

  const auto model_pid = [&] { return restarted_model ? restarted_model->pid() : model.pid(); };
  const std::vector<Fault> faults = {
      {"none", {}, [] {}, [] {}},
      {"prometheus slow",
       {"suggestion_unavailable", "suggestion_timeout"},
       [&] { prometheus.set_delay(1500ms); },
       [&] { prometheus.set_delay(0ms); }},
      {"prometheus down",
       {"suggestion_unavailable"},
       [&] { prometheus.set_down(true); },
       [&] { prometheus.set_down(false); }},
      {"model server down",
       {"suggestion_unavailable", "suggestion_timeout"},
       [&] {
         if (restarted_model)
           restarted_model->kill();
         else
           model.kill();
       },
       [&] {
         restarted_model = std::make_unique<Service>(
             std::vector<std::string>{maestro, "serve", "model", "--policy",
                                      (dir / "policy.maestro").string(), "--listen", model_listen},
             (dir / "model.stderr").string());
         if (!restarted_model->start()) std::cout << "the model server did not restart" << std::endl;
       }},
      {"kubernetes 409 on writes",
       {"kube_conflict"},
       [&] { api.inject(local::FaultRule::until_cleared(local::KubeFault::kConflict, "PATCH", "/scale")); },
       [&] { api.clear_faults(); }},
      {"kubernetes 500",
       {"kube_server_error", "suggestion_unavailable", "discovery_failed", "event_failed"},
       [&] { api.inject(local::FaultRule::until_cleared(local::KubeFault::kServerError)); },
       [&] { api.clear_faults(); }},
  };

  net::HttpClientOptions metrics_options;
  metrics_options.total_timeout = 5s;
  net::HttpClient controller_metrics([&] {
    auto options = metrics_options;
    options.base_url = fmt::format("http://127.0.0.1:{}", *controller_port);
    return options;
  }());
  net::HttpClient suggest_metrics([&] {
    auto options = metrics_options;
    options.base_url = fmt::format("http://127.0.0.1:{}", *suggest_port);
    return options;
  }());
  const auto read_buckets = [](net::HttpClient& client, const std::string& name) {
    auto response = client.get("/metrics");
    return response && response->status == 200 ? histogram_buckets(response->body, name)
                                               : std::map<double, double>{};
  };
  const auto rss_mib = [](pid_t pid) { return testing::process_resident_bytes(pid) / (1024.0 * 1024.0); };

  for (auto _ : state) {
    // One interval to warm up: discovery, connections, the first pass over every deployment.
    std::this_thread::sleep_for(kInterval + 5s);  // a fixed schedule, not waiting for a condition
    const double controller_rss_start = rss_mib(controller.pid());
    const double suggest_rss_start = rss_mib(suggest.pid());
    const double model_rss_start = rss_mib(model_pid());
    std::cout
        << fmt::format(
               "soak: {} deployments, bounds [{}, {}], interval {} s, {} min; faults for {} s of a minute; "
               "RSS at start: controller {:.1f} MiB, suggestion server {:.1f} MiB, model server {:.1f} "
               "MiB; load average {}",
               kDeployments, kMinReplicas, kMaxReplicas, kInterval.count(), minutes, kFaultLasts.count(),
               controller_rss_start, suggest_rss_start, model_rss_start, load_average())
        << std::endl;
    std::cout << fmt::format(
                     "{:>3} {:<26} {:>10} {:>10} {:>7} {:>8} {:>10} {:>11} {:>11} {:>7} {:>7} {:>7} {}",
                     "min", "fault", "reconciles", "decisions", "writes", "faults", "unexpected",
                     "p99 reconc", "p99 suggest", "ctl MiB", "sug MiB", "mod MiB", "bounds")
              << std::endl;
    std::vector<std::pair<Clock::time_point, const Fault*>> windows;  // each fault injected, and when
    long unexpected_total = 0, fault_holds_total = 0;
    std::size_t holds_seen = 0;
    {  // errors in the warm-up (no fault yet) are unexpected too
      std::lock_guard lock(log_mutex);
      for (; holds_seen < holds.size(); ++holds_seen, ++unexpected_total)
        std::cout << "unexpected in the warm-up: " << holds[holds_seen].line << std::endl;
    }
    auto loop_before = read_buckets(controller_metrics, "maestro_controller_loop_duration_seconds");
    auto suggest_before = read_buckets(suggest_metrics, "maestro_suggestion_duration_seconds");
    const auto started = Clock::now();
    for (int minute = 0; minute < minutes; ++minute) {
      const auto minute_start = started + minute * 1min;
      const Fault& fault = minute == minutes - 1 ? faults[0] : faults[minute % faults.size()];
      const long decisions_before = decisions.load(), scaled_before = scaled.load();
      std::this_thread::sleep_until(minute_start);
      fault.inject();
      windows.emplace_back(minute_start, &fault);
      std::this_thread::sleep_until(minute_start + kFaultLasts);
      fault.clear();
      // The rate the policy sees flips every minute: up for four intervals, then down for four.
      prometheus.set({.cpu_usage = 80,
                      .memory_usage = 200e6,
                      .replicas = 5,
                      .latency = 20,
                      .rps = minute % 2 == 0 ? kLowRps : kHighRps});
      std::this_thread::sleep_until(minute_start + 1min);

      long fault_holds = 0, unexpected = 0, reconciles = decisions.load() - decisions_before;
      {
        std::lock_guard lock(log_mutex);
        for (; holds_seen < holds.size(); ++holds_seen) {
          const auto& hold = holds[holds_seen];
          const bool expected = std::ranges::any_of(windows, [&](const auto& window) {
            return hold.at >= window.first && hold.at <= window.first + kFaultLasts + kRecoveryGrace &&
                   window.second->causes.contains(hold.cause);
          });
          if (hold.cause != "discovery_failed" && hold.cause != "event_failed") ++reconciles;
          if (expected) {
            ++fault_holds;
          } else {
            ++unexpected;
            if (unexpected <= 5) std::cout << "unexpected: " << hold.line << std::endl;
          }
        }
      }
      fault_holds_total += fault_holds;
      unexpected_total += unexpected;
      const auto loop_after = read_buckets(controller_metrics, "maestro_controller_loop_duration_seconds");
      const auto suggest_after = read_buckets(suggest_metrics, "maestro_suggestion_duration_seconds");
      int outside = 0;
      for (int i = 0; i < kDeployments; ++i) {
        const int replicas =
            api.replicas(fmt::format("team-{}", i % 10), fmt::format("app-{}", i)).value_or(-1);
        outside += replicas < kMinReplicas || replicas > kMaxReplicas ? 1 : 0;
      }
      const double intervals_per_minute = 60.0 / static_cast<double>(kInterval.count());
      std::cout << fmt::format(
                       "{:>3} {:<26} {:>10.0f} {:>10.0f} {:>7} {:>8} {:>10} {:>9.3f} s {:>9.3f} s {:>7.1f} "
                       "{:>7.1f} {:>7.1f} {}",
                       minute + 1, fault.name, reconciles / intervals_per_minute,
                       (decisions.load() - decisions_before) / intervals_per_minute,
                       scaled.load() - scaled_before, fault_holds, unexpected,
                       p99_bound(loop_before, loop_after), p99_bound(suggest_before, suggest_after),
                       rss_mib(controller.pid()), rss_mib(suggest.pid()), rss_mib(model_pid()),
                       outside == 0 ? "all in" : fmt::format("{} OUTSIDE", outside))
                << std::endl;
      loop_before = loop_after;
      suggest_before = suggest_after;
    }
    const bool alive = controller.running() && suggest.running();
    std::cout
        << fmt::format(
               "RSS start → end: controller {:.1f} → {:.1f} MiB, suggestion server {:.1f} → {:.1f} MiB, "
               "model server {:.1f} → {:.1f} MiB (restarted: {}); holds caused by injected faults {}, "
               "unexpected errors {}; processes {}; load average {}",
               controller_rss_start, rss_mib(controller.pid()), suggest_rss_start, rss_mib(suggest.pid()),
               model_rss_start, rss_mib(model_pid()), restarted_model ? "yes" : "no", fault_holds_total,
               unexpected_total, alive ? "alive" : "DIED", load_average())
        << std::endl;
    state.counters["unexpected_errors"] = static_cast<double>(unexpected_total);
    state.counters["fault_holds"] = static_cast<double>(fault_holds_total);
    if (!alive) state.SkipWithError("a service exited during the soak");
  }
  controller.stop();
  suggest.stop();
  if (restarted_model) restarted_model->stop();
  model.stop();
  api.stop();
  std::filesystem::remove_all(dir);
}

BENCHMARK(BM_SoakControlLoop)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace
}  // namespace maestro
