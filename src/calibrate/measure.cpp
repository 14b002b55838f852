#include "calibrate/measure.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "local/load_generator.hpp"
#include "net/http_client.hpp"

namespace maestro::calibrate {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : 0.5 * (values[middle - 1] + values[middle]);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The deployment's pods summed, as the cluster's /metrics/cadvisor exports them.
struct Usage {
  Clock::time_point at;
  double cpu_seconds = 0;
  double throttled_periods = 0;
  double periods = 0;
};

// What one load run at one rate measured.
struct Run {
  double rps = 0;  // answered per second of the plan
  double p50_ms = 0, p95_ms = 0;
  double cpu_cores = 0;
  double cpu_seconds = 0;  // increase of the CPU counters over the run
  double seconds = 0;      // between the two counter reads
  double requests = 0;     // answered
  double throttled_share = 0;
};

class Session {
 public:
  Session(local::LocalCluster& cluster, const MeasureOptions& options, const std::atomic<bool>& stop)
      : cluster_(cluster),
        options_(options),
        stop_(stop),
        metrics_(client_options(cluster.metrics_url().substr(0, cluster.metrics_url().find("/metrics")))),
        api_(client_options(cluster.api_url())) {}

  Result<Usage> usage() {
    auto answer = metrics_.get("/metrics/cadvisor");
    if (!answer || answer->status != 200)
      return fail("cannot read the container metrics at {}", cluster_.metrics_url());
    Usage usage{Clock::now()};
    const std::string labels = fmt::format(R"(namespace="{}",)", options_.namespace_);
    const std::string container = fmt::format(R"(container="{}"}})", options_.deployment);
    std::istringstream lines(answer->body);
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with('#') || line.find(labels) == std::string::npos ||
          line.find(container) == std::string::npos)
        continue;
      const double value = std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
      if (line.starts_with("container_cpu_usage_seconds_total{")) usage.cpu_seconds += value;
      if (line.starts_with("container_cpu_cfs_throttled_periods_total{")) usage.throttled_periods += value;
      if (line.starts_with("container_cpu_cfs_periods_total{")) usage.periods += value;
    }
    return usage;
  }

  // Open-model load at `rps` for `duration`, with the CPU counters read before and after.
  Result<Run> run(double rps, std::chrono::milliseconds duration) {
    if (stop_) return fail("calibration stopped");
    const std::vector<local::LoadStage> stages{{duration, rps}};
    const auto plan = local::plan_from_stages(stages, rps);
    local::LoadOptions load;
    load.target = fmt::format("http://127.0.0.1:{}", *service_port());
    load.concurrency = options_.concurrency;
    auto before = usage();
    if (!before) return std::unexpected(before.error());
    const auto report = local::run_load(plan, load, ++seed_, stop_);
    auto after = usage();
    if (!after) return std::unexpected(after.error());
    if (report.ok == 0) return fail("no request to {} was answered at {:.1f} requests/s", load.target, rps);
    Run run;
    run.seconds = std::chrono::duration<double>(after->at - before->at).count();
    run.requests = static_cast<double>(report.ok);
    run.rps = run.requests / run.seconds;  // over the same window as the CPU (a backlog's tail included)
    run.p50_ms = report.p50_ms;
    run.p95_ms = report.p95_ms;
    run.cpu_seconds = after->cpu_seconds - before->cpu_seconds;
    run.cpu_cores = run.cpu_seconds / run.seconds;
    const double periods = after->periods - before->periods;
    run.throttled_share = periods > 0 ? (after->throttled_periods - before->throttled_periods) / periods : 0;
    return run;
  }

  // Scales to `replicas` and waits until exactly that many pods run, all Ready (none starting or draining).
  Result<void> scale_to(int replicas) {
    cluster_.api().set_replicas(options_.namespace_, options_.deployment, replicas);
    const auto until = Clock::now() + 60s;
    while (Clock::now() < until && !stop_) {
      int ready = 0, others = 0;
      for (const auto& pod : cluster_.pods())
        if (pod.namespace_ == options_.namespace_ && pod.deployment == options_.deployment)
          ++(pod.phase == local::PodPhase::kReady ? ready : others);
      if (ready == replicas && others == 0) return {};
      std::this_thread::sleep_for(20ms);  // polling the pods, with a deadline
    }
    return fail("the deployment did not reach {} ready pods within 60 s", replicas);
  }

  // Ready replicas as the API's Deployment status says.
  Result<int> ready_replicas() {
    auto answer = api_.get(
        fmt::format("/apis/apps/v1/namespaces/{}/deployments/{}", options_.namespace_, options_.deployment));
    if (!answer || answer->status != 200) return fail("cannot read the deployment from the API");
    const auto body = nlohmann::json::parse(answer->body, nullptr, false);
    return body.is_discarded() ? 0 : body.value("/status/readyReplicas"_json_pointer, 0);
  }

  // Scale-up by one pod to Ready, from the scale write to the API's readyReplicas, in seconds.
  Result<double> startup_trial(int from) {
    if (auto ok = scale_to(from); !ok) return std::unexpected(ok.error());
    const auto start = Clock::now();
    cluster_.api().set_replicas(options_.namespace_, options_.deployment, from + 1);
    while (seconds_since(start) < 60 && !stop_) {
      auto ready = ready_replicas();
      if (!ready) return std::unexpected(ready.error());
      if (*ready >= from + 1) return seconds_since(start);
      std::this_thread::sleep_for(10ms);  // polling the API, with a deadline
    }
    return fail("a new pod was not Ready within 60 s");
  }

  // No load for `duration`: CPU cores a pod uses idle.
  Result<double> idle_cpu_per_pod(int pods) {
    auto before = usage();
    if (!before) return std::unexpected(before.error());
    const auto until = Clock::now() + options_.idle_duration;
    while (Clock::now() < until && !stop_) std::this_thread::sleep_for(50ms);  // the measurement's window
    auto after = usage();
    if (!after) return std::unexpected(after.error());
    return (after->cpu_seconds - before->cpu_seconds) /
           std::chrono::duration<double>(after->at - before->at).count() / pods;
  }

  void progress(const std::string& line) const {
    if (options_.on_progress) options_.on_progress(line);
  }

  std::optional<std::uint16_t> service_port() const {
    return cluster_.service_port(options_.namespace_, options_.deployment);
  }

 private:
  static net::HttpClientOptions client_options(std::string base_url) {
    net::HttpClientOptions options;
    options.base_url = std::move(base_url);
    options.total_timeout = 5s;
    options.retry.max_attempts = 1;
    return options;
  }

  local::LocalCluster& cluster_;
  const MeasureOptions& options_;
  const std::atomic<bool>& stop_;
  net::HttpClient metrics_;
  net::HttpClient api_;
  std::uint64_t seed_ = 0;
};

// CPU seconds per answered request, idle use taken off.
double cpu_per_request(const Run& run, double idle_cores) {
  return std::max(0.0, run.cpu_seconds - idle_cores * run.seconds) / run.requests;
}

struct LevelRuns {
  std::vector<double> rps, p50, p95, cpu, throttled;

  void add(const Run& run) {
    rps.push_back(run.rps), p50.push_back(run.p50_ms), p95.push_back(run.p95_ms);
    cpu.push_back(run.cpu_cores), throttled.push_back(run.throttled_share);
  }
  LevelMeasurement medians(double fraction, int pods) const {
    return {fraction, pods, median(rps), median(p50), median(p95), median(cpu), median(throttled)};
  }
};

// A level's runs, each followed by a held-out run (if asked) so that both see the machine alike.
Result<void> level(Session& session, const MeasureOptions& options, double fraction, int pods,
                   Measurements& m, std::vector<double>& cpu_costs) {
  LevelRuns fitted, held_out;
  for (int repeat = 0; repeat < options.repeats; ++repeat)
    for (const bool holdout : {false, true}) {
      if (holdout && !options.holdout) continue;
      auto run = session.run(fraction * m.capacity_rps_per_pod * pods, options.level_duration);
      if (!run) return std::unexpected(run.error());
      session.progress(
          fmt::format("level{} pods={} load={:.0f}% rps={:.1f} p50={:.1f}ms p95={:.1f}ms "
                      "cpu={:.3f} throttled={:.1f}%",
                      holdout ? " (held out)" : "", pods, 100 * fraction, run->rps, run->p50_ms, run->p95_ms,
                      run->cpu_cores, 100 * run->throttled_share));
      (holdout ? held_out : fitted).add(*run);
      if (!holdout) cpu_costs.push_back(cpu_per_request(*run, m.idle_cpu_cores * pods));
    }
  m.levels.push_back(fitted.medians(fraction, pods));
  if (options.holdout) m.holdout.push_back(held_out.medians(fraction, pods));
  return {};
}

// One pod under steps of load, 10 % of its CPU-bound rate (limit / CPU per request) apart, from 30 %: up
// until the p95 crosses the soft SLO, or down until it no longer does (a busy machine), between 5 % and
// 150 %. The crossing, interpolated linearly between the two steps around it.
Result<double> capacity_trial(Session& session, const MeasureOptions& options, double cpu_bound_rps) {
  const auto step = [&](double share) -> Result<Run> {
    auto run = session.run(share * cpu_bound_rps, options.capacity_step);
    if (run) session.progress(fmt::format("capacity step rps={:.1f} p95={:.1f}ms", run->rps, run->p95_ms));
    return run;
  };
  auto first = step(0.3);
  if (!first) return std::unexpected(first.error());
  const bool over = first->p95_ms > options.slo_soft_ms;
  Run previous = *first;
  for (double share = over ? 0.2 : 0.4; share > 0.04 && share < 1.51; share += over ? -0.1 : 0.1) {
    auto run = step(std::max(share, 0.05));
    if (!run) return std::unexpected(run.error());
    if ((run->p95_ms > options.slo_soft_ms) != over) {
      const Run& below = over ? *run : previous;
      const Run& above = over ? previous : *run;
      return below.rps +
             (above.rps - below.rps) * (options.slo_soft_ms - below.p95_ms) / (above.p95_ms - below.p95_ms);
    }
    previous = *run;
  }
  return previous.rps;  // no crossing between 5 % and 150 % of the CPU-bound rate: the last step's rate
}

}  // namespace

Result<Measurements> measure(local::LocalCluster& cluster, const MeasureOptions& options,
                             const std::atomic<bool>& stop) {
  Session session(cluster, options, stop);
  if (!session.service_port()) return fail("no deployment {}/{}", options.namespace_, options.deployment);
  if (!cluster.cgroups())
    return fail("the local cluster runs its pods without cgroups: no CPU limit to calibrate against");
  Measurements m;
  m.deployment = options.namespace_ + "/" + options.deployment;
  m.cpu_limit_cores = options.cpu_limit_cores;
  m.slo_soft_ms = options.slo_soft_ms;
  m.slo_hard_ms = options.slo_hard_ms;
  const int smallest = *std::min_element(options.pod_counts.begin(), options.pod_counts.end());

  // Start-up first: each trial also leaves the pods idle long enough to settle.
  for (int trial = 0; trial < options.startup_trials; ++trial) {
    auto seconds = session.startup_trial(smallest);
    if (!seconds) return std::unexpected(seconds.error());
    session.progress(fmt::format("start-up trial {}: {:.2f} s to Ready", trial + 1, *seconds));
    m.startup_trials.push_back(std::round(*seconds * 100) / 100);
  }
  m.startup_seconds = median(m.startup_trials);

  if (auto ok = session.scale_to(1); !ok) return std::unexpected(ok.error());
  auto idle = session.idle_cpu_per_pod(1);
  if (!idle) return std::unexpected(idle.error());
  m.idle_cpu_cores = *idle;
  session.progress(fmt::format("idle CPU {:.4f} cores a pod", m.idle_cpu_cores));

  // A first estimate of the CPU per request, at a light load, sets the capacity search's steps.
  std::vector<double> cpu_costs;
  auto probe = session.run(0.1 * m.cpu_limit_cores / 0.001, options.capacity_step);  // as if 1 ms a request
  if (!probe) return std::unexpected(probe.error());
  const double first_cost = cpu_per_request(*probe, m.idle_cpu_cores);
  if (!(first_cost > 0)) return fail("the pods used no CPU under load: are the cgroup counters read?");
  session.progress(fmt::format("CPU per request ≈ {:.2f} ms", 1000 * first_cost));

  for (int trial = 0; trial < options.capacity_searches; ++trial) {
    auto capacity = capacity_trial(session, options, m.cpu_limit_cores / first_cost);
    if (!capacity) return std::unexpected(capacity.error());
    session.progress(fmt::format("capacity trial {}: {:.1f} requests/s a pod", trial + 1, *capacity));
    m.capacity_trials.push_back(std::round(*capacity * 10) / 10);
  }
  m.capacity_rps_per_pod = median(m.capacity_trials);

  for (const int pods : options.pod_counts) {
    if (auto ok = session.scale_to(pods); !ok) return std::unexpected(ok.error());
    for (const double fraction : options.fractions) {
      if (auto ok = level(session, options, fraction, pods, m, cpu_costs); !ok)
        return std::unexpected(ok.error());
    }
  }
  m.cpu_seconds_per_request = median(cpu_costs);
  if (auto ok = session.scale_to(smallest); !ok) return std::unexpected(ok.error());
  return m;
}

}  // namespace maestro::calibrate
