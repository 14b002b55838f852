#include "local/local_cluster.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "local/chaos.hpp"
#include "local/load_balancer.hpp"
#include "local/pod_cgroup.hpp"
#include "local/pod_process.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"

namespace maestro::local {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// Kubernetes' SafeEncodeString alphabet: pod-template hashes and pod-name suffixes use it.
constexpr std::string_view kPodNameAlphabet = "bcdfghjklmnpqrstvwxz2456789";

std::string safe_encoded(std::uint64_t value, std::size_t length) {
  std::string out;
  for (std::size_t i = 0; i < length; ++i) {
    out += kPodNameAlphabet[value % kPodNameAlphabet.size()];
    value /= kPodNameAlphabet.size();
  }
  return out;
}

// A loopback port nothing listened on a moment ago (for processes that cannot bind port 0 and report it).
std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t size = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

// Writes `text` to `path` through a temporary file and a rename, so that a reader (Prometheus' file
// discovery) never sees half a file.
void write_atomically(const std::filesystem::path& path, const std::string& text) {
  const auto temporary = path.string() + ".tmp";
  std::ofstream(temporary) << text;
  std::filesystem::rename(temporary, path);
}

std::filesystem::path own_folder() {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::filesystem::current_path() : self.parent_path();
}

std::vector<std::string> default_command() {
  return {(own_folder() / "maestro-target-app").string(),
          "--listen",
          "127.0.0.1:{port}",
          "--cpu-ms",
          "5",
          "--workers",
          "4"};
}

struct Pod {
  std::string name;
  std::uint16_t port = 0;
  PodProcess process;
  std::optional<PodCgroup> cgroup;
  std::unique_ptr<net::HttpClient> probe;
  PodPhase phase = PodPhase::kStarting;
  Clock::time_point started;
  std::chrono::system_clock::time_point created;
  Clock::time_point next_probe;
  Clock::time_point kill_at;
  Clock::time_point drain_until;
  bool signalled = false;  // SIGTERM sent
  bool killed = false;     // SIGKILL sent
  bool was_ready = false;
  int failures = 0;
};

// A pod that exits before it was ever Ready is replaced after a back-off that doubles up to a cap (the
// kubelet's CrashLoopBackOff, shortened for one machine); a pod that becomes Ready resets it.
constexpr std::chrono::milliseconds kFirstCrashBackOff{1000};
constexpr std::chrono::milliseconds kMaxCrashBackOff{60'000};
constexpr std::chrono::milliseconds kMaxDrain{5'000};

struct Deployment {
  LocalDeploymentConfig config;
  std::string template_hash;
  std::unique_ptr<LoadBalancer> service;
  std::vector<std::unique_ptr<Pod>> pods;
  int last_desired = -1;
  std::chrono::milliseconds crash_back_off{0};
  Clock::time_point no_start_before;
};

}  // namespace

std::string_view pod_phase_name(PodPhase phase) {
  switch (phase) {
    case PodPhase::kStarting:
      return "Starting";
    case PodPhase::kReady:
      return "Ready";
    case PodPhase::kUnready:
      return "Unready";
    case PodPhase::kTerminating:
      return "Terminating";
  }
  return "Unknown";
}

struct LocalCluster::Impl final : ChaosTarget {
  explicit Impl(LocalConfig c)
      : config(std::move(c)),
        random(config.seed),
        pod_names(std::random_device{}()),
        exporter(net::HttpServerOptions{.io_threads = 1}) {}

  LocalConfig config;
  FakeKubeApi api{""};  // kubectl sends no bearer token over plain HTTP: the API is loopback-only instead
  std::mt19937_64 random;
  // Pod names are random, as the API server makes them: two clusters on one machine (tests in parallel)
  // must not share a pod's cgroup.
  std::mt19937_64 pod_names;
  std::vector<Deployment> deployments;
  net::HttpServer exporter;
  std::uint16_t exporter_port = 0;
  std::optional<PodProcess> prometheus;
  std::uint16_t prometheus_port = 0;
  std::atomic<bool> cgroups{false};  // false once they turn out unusable (read by cgroups())
  std::string discovery_text;
  std::thread controller;
  std::atomic<bool> stopping{false};
  bool started = false;
  mutable std::mutex mutex;  // guards the pods' list and phases (the controller thread alone changes them)
  std::map<std::string, std::chrono::seconds> deletions;  // pods chaos deleted, for the controller (mutex)
  std::unique_ptr<ChaosEngine> chaos;

  std::filesystem::path discovery_file() const { return config.state_dir / "pods.json"; }

  Result<void> start_prometheus();
  void run_controller();
  void reconcile(Deployment& deployment);
  void start_pod(Deployment& deployment);
  void terminate(Deployment& deployment, Pod& pod, const char* why, bool drain);
  void signal_when_drained(Deployment& deployment, Pod& pod, Clock::time_point now);
  void probe(Deployment& deployment, Pod& pod, Clock::time_point now);
  void publish(Deployment& deployment);
  void write_discovery();
  void shut_down_pods();
  std::string cadvisor_metrics() const;
  Result<void> start_chaos();
  void route_chaos();
  void delete_requested(Deployment& deployment, Clock::time_point now);

  // ChaosTarget: pods as chaos sees them; deletions are the controller thread's to carry out.
  std::vector<ChaosPod> chaos_pods() override;
  Result<void> delete_pod(const ChaosPod& pod, std::chrono::seconds grace_period) override;
  Result<std::vector<std::filesystem::path>> pod_cgroup_procs(const ChaosPod& pod) override;
  void record_event(const ChaosPod& pod, const std::string& reason, const std::string& message) override;
};

LocalCluster::LocalCluster(LocalConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

LocalCluster::~LocalCluster() {
  stop();
}

Result<void> LocalCluster::start() {
  Impl& s = *impl_;
  std::error_code error;
  std::filesystem::create_directories(s.config.state_dir / "logs", error);
  if (error) return fail("cannot create {}: {}", s.config.state_dir.string(), error.message());

  if (s.config.use_cgroups) {
    if (auto writable = PodCgroup::check_writable(); writable) {
      s.cgroups = true;
      if (const int removed = PodCgroup::remove_orphans(); removed > 0)
        spdlog::info("removed {} empty pod cgroups left by a cluster that did not stop", removed);
    } else {
      spdlog::warn(
          "cgroups unavailable, pods run without CPU or memory limits and are measured from /proc: {}",
          writable.error().message);
    }
  } else {
    spdlog::warn("cgroups off by configuration: pods run without limits, measured from /proc");
  }

  for (const auto& config : s.config.deployments) {
    Deployment deployment;
    deployment.config = config;
    if (deployment.config.command.empty()) deployment.config.command = default_command();
    deployment.template_hash =
        safe_encoded(std::hash<std::string>{}(config.namespace_ + "/" + config.name), 10);
    deployment.service = std::make_unique<LoadBalancer>(s.random());
    const auto address = net::parse_listen_address(config.listen);
    if (!address) return fail("deployment {}: listen: {}", config.name, address.error().message);
    auto port = deployment.service->start(address->first, address->second);
    if (!port) return fail("deployment {}: {}", config.name, port.error().message);
    FakeDeployment object = fake_deployment(config.namespace_, config.name, config.replicas);
    object.labels = config.labels;
    object.labels.emplace("app", config.name);
    object.annotations = config.annotations;
    object.cpu_limit_cores = config.limits.cpu_cores;
    s.api.put_deployment(object);
    s.api.set_status(config.namespace_, config.name, {});
    s.deployments.push_back(std::move(deployment));
  }

  const auto api_address = net::parse_listen_address(s.config.api_listen);
  if (!api_address) return fail("api_listen: {}", api_address.error().message);
  auto api_port = s.api.start(api_address->first, api_address->second);
  if (!api_port) return std::unexpected(api_port.error());

  s.chaos = std::make_unique<ChaosEngine>(s, s.config.state_dir / "logs", s.config.seed);
  s.route_chaos();
  s.exporter.route("GET", "/metrics/cadvisor", [&s](const net::HttpRequest&, net::HttpResponse& response) {
    response.content_type = "text/plain; version=0.0.4";
    response.body = s.cadvisor_metrics();
  });
  auto exporter_port = s.exporter.listen(s.config.metrics_listen);
  if (!exporter_port) return fail("metrics_listen: {}", exporter_port.error().message);
  s.exporter_port = *exporter_port;
  s.exporter.start();
  std::ofstream(s.config.state_dir / "chaos.url") << chaos_url() << "\n";

  std::ofstream(kubeconfig()) << fmt::format(
      "apiVersion: v1\nkind: Config\nclusters:\n- name: maestro-local\n  cluster:\n    server: {}\n"
      "contexts:\n- name: maestro-local\n  context:\n    cluster: maestro-local\n    user: maestro-local\n"
      "    namespace: default\ncurrent-context: maestro-local\nusers:\n- name: maestro-local\n  user: {{}}\n",
      api_url());
  s.write_discovery();

  if (!s.config.prometheus_binary.empty())
    if (auto prometheus = s.start_prometheus(); !prometheus) return prometheus;

  s.started = true;
  s.controller = std::thread([&s] { s.run_controller(); });
  if (auto chaos = s.start_chaos(); !chaos) return chaos;
  spdlog::info("local cluster up api={} prometheus={} kubeconfig={} cgroups={}", api_url(), prometheus_url(),
               kubeconfig().string(), s.cgroups.load());
  return {};
}

Result<void> LocalCluster::Impl::start_prometheus() {
  const auto address = net::parse_listen_address(config.prometheus_listen);
  if (!address) return fail("prometheus_listen: {}", address.error().message);
  prometheus_port = address->second != 0 ? address->second : free_loopback_port();
  const auto folder = config.state_dir / "prometheus";
  std::filesystem::create_directories(folder);
  const long long interval = config.scrape_interval.count();
  std::ofstream(folder / "prometheus.yml") << fmt::format(
      "global:\n  scrape_interval: {0}s\n  scrape_timeout: {0}s\n  evaluation_interval: {0}s\n"
      "scrape_configs:\n"
      "  - job_name: kubernetes-pods\n    file_sd_configs:\n      - files: ['{1}']\n        "
      "refresh_interval: {0}s\n"
      "  - job_name: kubelet-cadvisor\n    honor_labels: true\n    metrics_path: /metrics/cadvisor\n"
      "    static_configs:\n      - targets: ['127.0.0.1:{2}']\n",
      interval, discovery_file().string(), exporter_port);
  auto process = PodProcess::start(
      {{config.prometheus_binary, "--config.file=" + (folder / "prometheus.yml").string(),
        "--storage.tsdb.path=" + (folder / "data").string(),
        fmt::format("--web.listen-address={}:{}", address->first, prometheus_port), "--log.level=warn"},
       {},
       config.state_dir / "logs" / "prometheus.log"});
  if (!process)
    return fail("prometheus: {} (install Debian's prometheus, or set prometheus_binary: '' to run without)",
                process.error().message);
  prometheus = std::move(*process);
  net::HttpClientOptions options;
  options.base_url = fmt::format("http://127.0.0.1:{}", prometheus_port);
  options.connect_timeout = std::chrono::milliseconds(300);
  options.total_timeout = std::chrono::milliseconds(1000);
  options.retry.max_attempts = 1;
  net::HttpClient client(options);
  const auto until = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < until) {
    if (!prometheus->running())
      return fail("prometheus exited; see {}", (config.state_dir / "logs" / "prometheus.log").string());
    if (auto ready = client.get("/-/ready"); ready && ready->status == 200) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling readiness, with a deadline
  }
  return fail("prometheus was not ready within 30 s");
}

void LocalCluster::stop() {
  Impl& s = *impl_;
  if (s.chaos) s.chaos->stop();  // stressors end before their pods do
  if (s.started) {
    s.stopping = true;
    s.controller.join();  // the controller stops the pods it started (their death signal is tied to it)
    s.started = false;
  }
  if (s.prometheus) {
    s.prometheus->signal_group(SIGTERM);
    const auto until = Clock::now() + std::chrono::seconds(10);
    while (s.prometheus->running() && Clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // waiting for its exit, with a deadline
    s.prometheus.reset();                                          // kills what is left
  }
  s.exporter.stop();
  for (auto& deployment : s.deployments) deployment.service->stop();
  s.api.stop();
}

void LocalCluster::Impl::run_controller() {
  std::uint64_t seen = 0;
  while (!stopping) {
    for (auto& deployment : deployments) reconcile(deployment);
    write_discovery();
    // Woken by any write to the API (a scale), else every 50 ms for probes and grace periods.
    seen = api.wait_for_write(seen, std::chrono::milliseconds(50));
  }
  shut_down_pods();
}

void LocalCluster::Impl::reconcile(Deployment& deployment) {
  const auto& config = deployment.config;
  const int desired = api.replicas(config.namespace_, config.name).value_or(0);
  const auto now = Clock::now();
  delete_requested(deployment, now);

  // Reap: a pod that exited leaves; one that was not asked to is replaced below, as its ReplicaSet would.
  for (auto it = deployment.pods.begin(); it != deployment.pods.end();) {
    Pod& pod = **it;
    if (pod.process.running()) {
      if (pod.phase == PodPhase::kTerminating) signal_when_drained(deployment, pod, now);
      if (pod.phase == PodPhase::kTerminating && now >= pod.kill_at && !pod.killed) {
        spdlog::warn("pod kill deployment={} pod={} reason=\"grace period over\"", config.name, pod.name);
        pod.process.signal_group(SIGKILL);
        pod.killed = true;
      }
      ++it;
      continue;
    }
    const int status = pod.process.exit_status().value_or(0);
    spdlog::info("pod exited deployment={} pod={} status={} expected={}", config.name, pod.name, status,
                 pod.phase == PodPhase::kTerminating);
    if (pod.phase != PodPhase::kTerminating) {
      std::string back_off;
      if (!pod.was_ready) {
        deployment.crash_back_off = deployment.crash_back_off.count() == 0
                                        ? kFirstCrashBackOff
                                        : std::min(2 * deployment.crash_back_off, kMaxCrashBackOff);
        deployment.no_start_before = now + deployment.crash_back_off;
        back_off = fmt::format("; back-off {} ms before the next start", deployment.crash_back_off.count());
      }
      api.emit_event(config.namespace_, config.name, "PodExited",
                     fmt::format("pod {} exited unexpectedly (wait status {}){}", pod.name, status, back_off),
                     "kubelet");
    }
    std::lock_guard lock(mutex);
    it = deployment.pods.erase(it);
  }

  if (desired != deployment.last_desired && deployment.last_desired >= 0)
    api.emit_event(
        config.namespace_, config.name, "ScalingReplicaSet",
        fmt::format("Scaled {} replica set {}-{} to {}", desired > deployment.last_desired ? "up" : "down",
                    config.name, deployment.template_hash, desired),
        "deployment-controller");
  deployment.last_desired = desired;

  std::vector<Pod*> live;
  for (auto& pod : deployment.pods)
    if (pod->phase != PodPhase::kTerminating) live.push_back(pod.get());
  if (now >= deployment.no_start_before)
    for (int missing = desired - static_cast<int>(live.size()); missing > 0; --missing) start_pod(deployment);
  if (static_cast<int>(live.size()) > desired) {
    // As a ReplicaSet picks pods to delete: not ready before ready, then the youngest first.
    std::stable_sort(live.begin(), live.end(), [](const Pod* a, const Pod* b) {
      const bool a_ready = a->phase == PodPhase::kReady;
      const bool b_ready = b->phase == PodPhase::kReady;
      if (a_ready != b_ready) return !a_ready;
      return a->started > b->started;
    });
    for (std::size_t i = 0; i < live.size() - static_cast<std::size_t>(desired); ++i)
      terminate(deployment, *live[i], "scaled down", true);
  }

  for (auto& pod : deployment.pods)
    if (pod->phase != PodPhase::kTerminating && now >= pod->next_probe) probe(deployment, *pod, now);
  publish(deployment);
}

void LocalCluster::Impl::start_pod(Deployment& deployment) {
  const auto& config = deployment.config;
  auto pod = std::make_unique<Pod>();
  pod->name = fmt::format("{}-{}-{}", config.name, deployment.template_hash, safe_encoded(pod_names(), 5));
  pod->port = free_loopback_port();
  PodLaunch launch;
  for (auto argument : config.command) {
    for (auto at = argument.find("{port}"); at != std::string::npos; at = argument.find("{port}"))
      argument.replace(at, 6, std::to_string(pod->port));
    launch.argv.push_back(std::move(argument));
  }
  launch.log = this->config.state_dir / "logs" / (pod->name + ".log");
  if (cgroups) {
    if (auto cgroup = PodCgroup::create(pod->name, config.limits); cgroup) {
      pod->cgroup = std::move(*cgroup);
      launch.cgroup_procs = pod->cgroup->procs_files();
    } else {
      // Rather than no pod at all: this one and those after it run without limits.
      spdlog::warn("cgroups unusable, pods from now on run without limits, measured from /proc: {}",
                   cgroup.error().message);
      cgroups = false;
    }
  }
  auto process = PodProcess::start(launch);
  if (!process) {
    spdlog::error("pod start deployment={} pod={} error=\"{}\"", config.name, pod->name,
                  process.error().message);
    return;
  }
  pod->process = std::move(*process);
  pod->started = Clock::now();
  pod->created = std::chrono::system_clock::now();
  pod->next_probe = pod->started + config.startup_delay;
  net::HttpClientOptions options;
  options.base_url = fmt::format("http://127.0.0.1:{}", pod->port);
  options.connect_timeout = std::chrono::milliseconds(200);
  options.total_timeout = std::chrono::milliseconds(1000);
  options.retry.max_attempts = 1;
  pod->probe = std::make_unique<net::HttpClient>(options);
  spdlog::info("pod start deployment={} pod={} port={} pid={} cpu={} memory_bytes={}", config.name, pod->name,
               pod->port, pod->process.pid(), pod->cgroup ? config.limits.cpu_cores : 0.0,
               pod->cgroup ? config.limits.memory_bytes : 0);
  std::lock_guard lock(mutex);
  deployment.pods.push_back(std::move(pod));
}

// Scale-down drains a pod as an endpoint leaves a Service: out of the endpoints first (no new connection
// reaches it), SIGTERM once the connections the Service had opened to it are done (in flight, or kept
// alive: the drain ends at half the grace period, at most kMaxDrain), SIGKILL when the grace period is over.
void LocalCluster::Impl::terminate(Deployment& deployment, Pod& pod, const char* why, bool drain) {
  {
    std::lock_guard lock(mutex);
    pod.phase = PodPhase::kTerminating;
  }
  publish(deployment);
  const auto now = Clock::now();
  const auto grace = deployment.config.termination_grace;
  pod.kill_at = now + grace;
  pod.drain_until = drain ? now + std::min<Clock::duration>(grace / 2, kMaxDrain) : now;
  spdlog::info("pod terminate deployment={} pod={} reason=\"{}\" open_connections={}", deployment.config.name,
               pod.name, why, deployment.service->open_connections(pod.port));
  signal_when_drained(deployment, pod, now);
}

void LocalCluster::Impl::signal_when_drained(Deployment& deployment, Pod& pod, Clock::time_point now) {
  if (pod.signalled || (now < pod.drain_until && deployment.service->open_connections(pod.port) > 0)) return;
  pod.process.signal_group(SIGTERM);
  pod.signalled = true;
  spdlog::info("pod sigterm deployment={} pod={} open_connections={}", deployment.config.name, pod.name,
               deployment.service->open_connections(pod.port));
}

void LocalCluster::Impl::probe(Deployment& deployment, Pod& pod, Clock::time_point now) {
  const auto& config = deployment.config;
  pod.next_probe = now + config.readiness_period;
  const auto answer = pod.probe->get(config.readiness_path);
  const bool passed = answer && answer->status >= 200 && answer->status < 400;
  PodPhase phase = pod.phase;
  if (passed) {
    pod.failures = 0;
    pod.was_ready = true;
    deployment.crash_back_off = std::chrono::milliseconds(0);
    phase = PodPhase::kReady;
  } else if (pod.phase == PodPhase::kReady && ++pod.failures >= config.readiness_failures) {
    phase = PodPhase::kUnready;
  }
  if (phase == pod.phase) return;
  spdlog::info("pod {} deployment={} pod={} after_ms={}", phase == PodPhase::kReady ? "ready" : "unready",
               config.name, pod.name,
               std::chrono::duration_cast<std::chrono::milliseconds>(now - pod.started).count());
  std::lock_guard lock(mutex);
  pod.phase = phase;
}

// The Service's endpoints, the Deployment's status and the pods the API lists, from the pods' phases.
void LocalCluster::Impl::publish(Deployment& deployment) {
  std::vector<std::uint16_t> endpoints;
  DeploymentStatus status;
  for (const auto& pod : deployment.pods) {
    if (pod->phase == PodPhase::kTerminating) continue;
    ++status.replicas;
    if (pod->phase != PodPhase::kReady) continue;
    ++status.ready_replicas;
    ++status.available_replicas;
    endpoints.push_back(pod->port);
  }
  if (endpoints != deployment.service->endpoints()) deployment.service->set_endpoints(std::move(endpoints));
  api.set_status(deployment.config.namespace_, deployment.config.name, status);
  std::vector<PodObject> objects;
  for (const auto& pod : deployment.pods)
    objects.push_back({.namespace_ = deployment.config.namespace_,
                       .name = pod->name,
                       .deployment = deployment.config.name,
                       .phase = "Running",
                       .ready = pod->phase == PodPhase::kReady,
                       .terminating = pod->phase == PodPhase::kTerminating,
                       .port = pod->port,
                       .cpu_limit_cores = pod->cgroup ? deployment.config.limits.cpu_cores : 0,
                       .memory_limit_bytes = pod->cgroup ? deployment.config.limits.memory_bytes : 0,
                       .created = pod->created});
  api.set_pods(deployment.config.namespace_, deployment.config.name, objects);
}

// Prometheus scrapes a pod from its start until its process is gone (a draining pod's last requests still
// count), as Kubernetes discovery's pod role lists pods whether ready or not, with the labels it gives them.
// Listing pods from their start matters: Prometheus applies discovered targets only every 5 s.
void LocalCluster::Impl::write_discovery() {
  json groups = json::array();
  for (const auto& deployment : deployments)
    for (const auto& pod : deployment.pods) {
      groups.push_back({{"targets", {fmt::format("127.0.0.1:{}", pod->port)}},
                        {"labels",
                         {{"namespace", deployment.config.namespace_},
                          {"pod", pod->name},
                          {"container", deployment.config.name}}}});
    }
  std::string text = groups.dump(1);
  if (text == discovery_text) return;
  write_atomically(discovery_file(), text);
  discovery_text = std::move(text);
}

void LocalCluster::Impl::shut_down_pods() {
  for (auto& deployment : deployments)
    for (auto& pod : deployment.pods)
      if (pod->phase != PodPhase::kTerminating) terminate(deployment, *pod, "cluster stopping", false);
  bool left = true;
  while (left) {
    left = false;
    const auto now = Clock::now();
    for (auto& deployment : deployments) {
      for (auto it = deployment.pods.begin(); it != deployment.pods.end();) {
        if ((*it)->process.running()) {
          if (now >= (*it)->kill_at) (*it)->process.signal_group(SIGKILL);
          left = true;
          ++it;
        } else {
          spdlog::info("pod exited deployment={} pod={} expected=true", deployment.config.name, (*it)->name);
          std::lock_guard lock(mutex);
          it = deployment.pods.erase(it);
        }
      }
      publish(deployment);
    }
    write_discovery();
    if (left)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // waiting for exits, with deadlines
  }
}

Result<void> LocalCluster::Impl::start_chaos() {
  chaos->start();
  for (const auto& entry : config.chaos) {
    std::ifstream file(entry.file);
    if (!file) return fail("chaos: cannot read {}", entry.file.string());
    const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    auto objects = parse_chaos(text);
    if (!objects) return fail("chaos {}: {}", entry.file.string(), objects.error().message);
    if (entry.per_hour <= 0) {
      if (auto applied = chaos->apply(*objects); !applied) return std::unexpected(applied.error());
      continue;
    }
    for (const auto& object : *objects) {
      const auto* experiment = std::get_if<ChaosExperiment>(&object);
      if (experiment == nullptr)
        return fail("chaos {}: per_hour runs a PodChaos or StressChaos at random, not a Schedule",
                    entry.file.string());
      chaos->add_random(*experiment, entry.per_hour);
    }
  }
  return {};
}

// The chaos endpoint beside the kubelet's metrics (`maestro local chaos` talks to it): POST a Chaos Mesh
// spec (YAML, several documents) to apply it, GET what runs and ran, DELETE ?namespace=&name= to end one.
void LocalCluster::Impl::route_chaos() {
  exporter.route("POST", "/chaos", [this](const net::HttpRequest& request, net::HttpResponse& response) {
    auto objects = parse_chaos(std::string(request.body));
    auto applied = objects ? chaos->apply(*objects) : std::unexpected(objects.error());
    response = applied ? net::json_response(200, json{{"applied", *applied}}.dump())
                       : net::error_response(400, applied.error().message);
  });
  exporter.route("GET", "/chaos", [this](const net::HttpRequest&, net::HttpResponse& response) {
    const auto status = chaos->status();
    json injections = json::array();
    const auto seconds = [](std::chrono::system_clock::time_point at) {
      return at == std::chrono::system_clock::time_point::max()
                 ? json(nullptr)
                 : json(std::chrono::duration<double>(at.time_since_epoch()).count());
    };
    for (const auto& injection : status.injections)
      injections.push_back({{"experiment", injection.experiment},
                            {"kind", injection.kind},
                            {"namespace", injection.namespace_},
                            {"pod", injection.pod},
                            {"deployment", injection.deployment},
                            {"at", seconds(injection.at)},
                            {"until", seconds(injection.until)},
                            {"active", injection.active},
                            {"stressor_pid", injection.stressor_pid}});
    response =
        net::json_response(200, json{{"schedules", status.schedules}, {"injections", injections}}.dump());
  });
  exporter.route("DELETE", "/chaos", [this](const net::HttpRequest& request, net::HttpResponse& response) {
    const auto namespace_ = request.query_param("namespace").value_or("default");
    const auto name = request.query_param("name").value_or("");
    response = chaos->remove(namespace_, name)
                   ? net::json_response(200, json{{"deleted", namespace_ + "/" + name}}.dump())
                   : net::error_response(404, fmt::format("no chaos {}/{}", namespace_, name));
  });
}

std::vector<ChaosPod> LocalCluster::Impl::chaos_pods() {
  std::vector<ChaosPod> pods;
  std::lock_guard lock(mutex);
  for (const auto& deployment : deployments) {
    auto labels = deployment.config.labels;
    labels.emplace("app", deployment.config.name);
    for (const auto& pod : deployment.pods)
      if (pod->phase != PodPhase::kTerminating && !deletions.contains(pod->name))
        pods.push_back({deployment.config.namespace_, pod->name, deployment.config.name, labels});
  }
  return pods;
}

Result<void> LocalCluster::Impl::delete_pod(const ChaosPod& pod, std::chrono::seconds grace_period) {
  {
    std::lock_guard lock(mutex);
    deletions[pod.name] = grace_period;
  }
  api.emit_event(pod.namespace_, pod.deployment, "Killing", fmt::format("Deleting pod {}", pod.name),
                 "kubelet");
  return {};
}

// Carries out the deletions chaos asked for, as the API deletes a pod: it is Terminating at once (so its
// Deployment replaces it with no back-off), out of the Service, and killed after its grace period.
void LocalCluster::Impl::delete_requested(Deployment& deployment, Clock::time_point now) {
  std::map<std::string, std::chrono::seconds> requested;
  {
    std::lock_guard lock(mutex);
    for (const auto& pod : deployment.pods)
      if (auto found = deletions.find(pod->name); found != deletions.end()) {
        requested.insert(*found);
        deletions.erase(found);
      }
  }
  for (auto& pod : deployment.pods) {
    const auto found = requested.find(pod->name);
    if (found == requested.end() || pod->phase == PodPhase::kTerminating) continue;
    if (found->second.count() > 0) {
      terminate(deployment, *pod, "deleted by chaos", false);
      pod->kill_at = now + found->second;
      continue;
    }
    {
      std::lock_guard lock(mutex);
      pod->phase = PodPhase::kTerminating;
    }
    pod->process.signal_group(SIGKILL);
    pod->signalled = pod->killed = true;
    pod->kill_at = now;
    spdlog::info("pod kill deployment={} pod={} reason=\"deleted by chaos\"", deployment.config.name,
                 pod->name);
    publish(deployment);
  }
}

Result<std::vector<std::filesystem::path>> LocalCluster::Impl::pod_cgroup_procs(const ChaosPod& pod) {
  std::lock_guard lock(mutex);
  for (const auto& deployment : deployments)
    for (const auto& running : deployment.pods)
      if (running->name == pod.name) {
        if (!running->cgroup) return fail("pod {} runs without cgroups", pod.name);
        return running->cgroup->procs_files();
      }
  return fail("no pod {}", pod.name);
}

void LocalCluster::Impl::record_event(const ChaosPod& pod, const std::string& reason,
                                      const std::string& message) {
  api.emit_event(pod.namespace_, pod.deployment, reason, message, "chaos-mesh");
}

std::string LocalCluster::Impl::cadvisor_metrics() const {
  struct Row {
    std::string labels;
    ContainerUsage usage;
  };
  std::vector<Row> rows;
  {
    std::lock_guard lock(mutex);
    for (const auto& deployment : deployments)
      for (const auto& pod : deployment.pods) {
        const std::string labels =
            fmt::format(R"(namespace="{}",pod="{}",container="{}")", deployment.config.namespace_, pod->name,
                        deployment.config.name);
        rows.push_back({labels, pod->cgroup ? pod->cgroup->usage() : process_usage(pod->process.pid())});
      }
  }
  std::string text;
  const auto family = [&](const char* name, const char* type, const char* help, auto value) {
    text += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (const auto& row : rows) text += fmt::format("{}{{{}}} {}\n", name, row.labels, value(row.usage));
  };
  family("container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed in seconds.",
         [](const ContainerUsage& u) { return u.cpu_seconds; });
  family("container_cpu_cfs_throttled_periods_total", "counter", "Number of throttled period intervals.",
         [](const ContainerUsage& u) { return u.throttled_periods; });
  family("container_cpu_cfs_periods_total", "counter", "Number of elapsed enforcement period intervals.",
         [](const ContainerUsage& u) { return u.periods; });
  family("container_memory_working_set_bytes", "gauge", "Current working set in bytes.",
         [](const ContainerUsage& u) { return u.working_set_bytes; });
  return text;
}

FakeKubeApi& LocalCluster::api() {
  return impl_->api;
}

std::string LocalCluster::api_url() const {
  return impl_->api.url();
}

std::string LocalCluster::prometheus_url() const {
  return impl_->prometheus ? fmt::format("http://127.0.0.1:{}", impl_->prometheus_port) : "";
}

std::string LocalCluster::metrics_url() const {
  return fmt::format("http://127.0.0.1:{}/metrics/cadvisor", impl_->exporter_port);
}

std::string LocalCluster::chaos_url() const {
  return fmt::format("http://127.0.0.1:{}/chaos", impl_->exporter_port);
}

ChaosEngine& LocalCluster::chaos() {
  return *impl_->chaos;
}

std::filesystem::path LocalCluster::kubeconfig() const {
  return impl_->config.state_dir / "kubeconfig";
}

std::optional<std::uint16_t> LocalCluster::service_port(const std::string& ns,
                                                        const std::string& name) const {
  for (const auto& deployment : impl_->deployments)
    if (deployment.config.namespace_ == ns && deployment.config.name == name)
      return deployment.service->port();
  return std::nullopt;
}

std::vector<PodInfo> LocalCluster::pods() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<PodInfo> all;
  for (const auto& deployment : impl_->deployments)
    for (const auto& pod : deployment.pods)
      all.push_back({deployment.config.namespace_, deployment.config.name, pod->name, pod->port,
                     static_cast<int>(pod->process.pid()), pod->phase});
  return all;
}

bool LocalCluster::cgroups() const {
  return impl_->cgroups;
}

}  // namespace maestro::local
