// `maestro controller --config FILE`: runs the autoscaling controller (services/controller) until SIGTERM or
// SIGINT, serving /metrics, /healthz and /readyz on the configured address.
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include "base/clock.hpp"
#include "cli/command.hpp"
#include "kube/client.hpp"
#include "net/http_server.hpp"
#include "net/secret_file.hpp"
#include "prom/credentials.hpp"
#include "prom/query_client.hpp"
#include "services/controller/config.hpp"
#include "services/controller/controller.hpp"
#include "services/controller/hpa_source.hpp"
#include "services/controller/lease_lock.hpp"
#include "services/controller/pod_lister.hpp"
#include "services/controller/suggestion_client.hpp"

namespace maestro::cli {
namespace {

struct LeaderElectionFlags {
  bool enabled = false;
  std::string namespace_ = "default";
  std::string name = "maestro-controller";
  std::string identity;  // "" the host name and a random suffix, as client-go's users make it
  int lease_seconds = 15;
  int renew_deadline_seconds = 10;
  int retry_period_seconds = 2;
};

struct Options {
  std::string config;
  bool once = false;
  LeaderElectionFlags leader_election;
  std::string policy;  // "" as configured; "learned" or "hpa" for every deployment
};

std::string default_identity() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::random_device random;
  return fmt::format("{}_{:08x}", host, random());
}

// Wakes sleepers when the controller is asked to stop.
class StopSignal {
 public:
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    changed_.notify_all();
  }
  // Sleeps for `duration` unless stopped first; true if stopped.
  bool wait_for(std::chrono::milliseconds duration) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, duration, [this] { return stopped_; });
  }
  bool stopped() {
    std::lock_guard lock(mutex_);
    return stopped_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopped_ = false;
};

// The retry period stretched by up to 20 %, as client-go's JitterFactor 1.2, so candidates do not march in
// step.
std::chrono::milliseconds jittered(std::chrono::seconds period) {
  static thread_local std::mt19937 random{std::random_device{}()};
  const auto base = std::chrono::duration_cast<std::chrono::milliseconds>(period);
  return base + std::chrono::milliseconds(std::uniform_int_distribution<long>(0, base.count() / 5)(random));
}

// Campaigns for the lease until this replica leads, then runs `controller` while another thread renews the
// lease; a replica that cannot renew it within the renew deadline stops acting and says so (true). Returns
// at once when stopped.
bool run_as_leader(controller::LeaderElector& elector, const controller::LeaderElectionConfig& config,
                   controller::Controller& controller, StopSignal& stop) {
  spdlog::info("leader election: {} campaigns for the lease", config.identity);
  while (!elector.try_acquire_or_renew()) {
    if (stop.wait_for(jittered(config.retry_period))) return false;
  }
  spdlog::info("leader election: {} leads", config.identity);
  std::atomic<bool> lost{false};
  std::thread renewer([&] {
    while (!stop.wait_for(config.retry_period)) {
      if (!elector.try_acquire_or_renew())
        spdlog::warn("leader election: could not renew the lease: {}", elector.last_error());
      if (elector.lost()) {
        spdlog::error("leader election: lost the lease (not renewed for {} s); stopping",
                      config.renew_deadline.count());
        lost = true;
        controller.stop();
        ::kill(::getpid(), SIGTERM);  // wakes the signal waiter
        return;
      }
    }
  });
  if (!stop.stopped()) controller.run();
  stop.stop();
  renewer.join();
  if (!lost) {
    // Hand the lease over at once rather than let the next leader wait it out.
    if (auto released = elector.release(); !released)
      spdlog::warn("leader election: could not release the lease: {}", released.error().message);
  }
  return lost;
}

void run_controller(const Options& options) {
  auto config = controller::load_controller_config(options.config);
  if (!config) throw CLI::ValidationError("--config", config.error().message);
  if (!options.policy.empty()) {
    const auto source = controller::parse_decision_source(options.policy);
    if (!source) throw CLI::ValidationError("--policy", source.error().message);
    config->defaults.source = *source;
    for (auto& target : config->deployments) target.settings.source = *source;
    if (auto ok = controller::require_prometheus_for_hpa(*config); !ok)
      throw CLI::ValidationError("--policy", ok.error().message);
  }

  base::RealClock clock;
  auto kube_options = controller::kubernetes_http_options(config->kubernetes, clock);
  if (!kube_options) throw CommandFailed(fmt::format("kubernetes: {}", kube_options.error().message));
  // The controller holds and retries next interval; one quick retry covers a dropped keep-alive connection.
  kube_options->retry.max_attempts = 2;
  kube::KubeClient kube(*kube_options);

  net::HttpClientOptions suggestion_options;
  suggestion_options.base_url = config->suggestion_server;
  suggestion_options.total_timeout = config->suggestion_timeout;
  suggestion_options.connect_timeout =
      std::min(config->suggestion_timeout, suggestion_options.connect_timeout);
  suggestion_options.retry.max_attempts = 2;
  suggestion_options.retry.retry_server_errors = false;  // a 503 means "no data": hold, ask next interval
  if (!config->suggestion_token_file.empty()) {
    auto token = std::make_shared<net::TokenFile>(config->suggestion_token_file, clock);
    suggestion_options.bearer_token = [token] { return token->token(); };
  }
  controller::SuggestionClient suggestions(suggestion_options);

  // The HPA source, if Prometheus is configured: it reads pods through the API and per-pod CPU from there.
  net::HttpClientOptions prometheus_options;
  prometheus_options.base_url = config->prometheus.url;
  prometheus_options.total_timeout = config->prometheus.timeout;
  prometheus_options.connect_timeout =
      std::min(config->prometheus.timeout, prometheus_options.connect_timeout);
  net::HttpClient prometheus_http(prometheus_options);
  prom::PrometheusClient prometheus(prometheus_http);
  controller::KubeScaleClient scale_client(kube);
  controller::KubePodLister pods(kube);
  std::optional<controller::HpaSource> hpa;
  controller::HpaSourceOptions hpa_options;
  hpa_options.rate_window = config->prometheus.rate_window;
  if (!config->prometheus.url.empty()) hpa.emplace(scale_client, pods, prometheus, clock, hpa_options);

  const controller::LeaderElectionConfig election{
      .identity =
          options.leader_election.identity.empty() ? default_identity() : options.leader_election.identity,
      .lease_duration = std::chrono::seconds(options.leader_election.lease_seconds),
      .renew_deadline = std::chrono::seconds(options.leader_election.renew_deadline_seconds),
      .retry_period = std::chrono::seconds(options.leader_election.retry_period_seconds)};
  std::optional<controller::KubeLeaseLock> lease;
  std::optional<controller::LeaderElector> elector;
  if (options.leader_election.enabled && !options.once) {
    if (auto valid = controller::validate(election); !valid)
      throw CLI::ValidationError("--leader-elect", valid.error().message);
    lease.emplace(kube, options.leader_election.namespace_, options.leader_election.name);
    elector.emplace(*lease, clock, election);
  }

  // Signals go to the thread that waits for them, not to whichever thread happens to run.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  net::HttpServer server;
  controller::Controller controller(*config, kube, suggestions, clock, server.registry(),
                                    hpa ? &*hpa : nullptr);
  server.set_readiness([&controller] { return controller.ready(); });
  auto port = server.listen(config->listen);
  if (!port) throw CommandFailed(fmt::format("listen {}: {}", config->listen, port.error().message));
  server.start();
  std::cout << "maestro controller: managing " << config->deployments.size() << " listed deployment(s)"
            << (config->discovery.enabled ? " and those annotated maestro.io/autoscale=true" : "")
            << "; metrics on port " << *port << std::endl;
  // Allowed (a development cluster, the local test double) but never silent.
  for (const auto& warning : prom::transport_warnings("kubernetes", *kube_options))
    spdlog::warn("{}", warning);
  for (const auto& warning : prom::transport_warnings("suggestion server", suggestion_options))
    spdlog::warn("{}", warning);

  int failed = 0;
  bool lost_lease = false;
  if (options.once) {
    failed = controller.reconcile_all();
  } else {
    StopSignal stop;
    std::thread signal_waiter([&controller, &stop, signals] {
      int received = 0;
      sigwait(&signals, &received);
      spdlog::info("signal {} received, stopping", received);
      stop.stop();
      controller.stop();
    });
    if (elector) {
      lost_lease = run_as_leader(*elector, election, controller, stop);
    } else {
      controller.run();
    }
    // run() returned because of stop(): from the signal thread, which has finished or is finishing.
    signal_waiter.join();
  }
  server.stop();
  if (failed > 0) throw CommandFailed(fmt::format("{} deployment(s) could not be reconciled", failed));
  if (lost_lease) throw CommandFailed("lost the leader election lease");
}

const Registration kRegistration{
    "controller", [](CLI::App& maestro) {
      auto options = std::make_shared<Options>();
      auto* command = maestro.add_subcommand("controller", "Scale deployments with the policy's suggestions");
      command->add_option("--config", options->config, "Controller YAML configuration")
          ->required()
          ->check(CLI::ExistingFile);
      command
          ->add_option("--policy", options->policy,
                       "Who decides every deployment's replicas: learned (the suggestion server) or hpa "
                       "(the Kubernetes HPA's algorithm on per-pod CPU; needs config.prometheus.url)")
          ->check(CLI::IsMember({"learned", "hpa"}));
      command->add_flag("--once", options->once,
                        "Reconcile every managed deployment once, then exit (1 if any failed)");
      auto& election = options->leader_election;
      command->add_flag("--leader-elect", election.enabled,
                        "Of several replicas, only the one holding a coordination.k8s.io/v1 Lease acts "
                        "(client-go's leader election)");
      command->add_option("--leader-elect-resource-namespace", election.namespace_, "Namespace of the Lease")
          ->capture_default_str();
      command->add_option("--leader-elect-resource-name", election.name, "Name of the Lease")
          ->capture_default_str();
      command->add_option("--leader-elect-identity", election.identity,
                          "This replica's identity (default: host name and a random suffix)");
      command
          ->add_option("--leader-elect-lease-duration", election.lease_seconds,
                       "Seconds a candidate waits after the leader's last renewal before taking over")
          ->check(CLI::Range(2, 3600))
          ->capture_default_str();
      command
          ->add_option("--leader-elect-renew-deadline", election.renew_deadline_seconds,
                       "Seconds the leader keeps trying to renew before it stops acting")
          ->check(CLI::Range(1, 3600))
          ->capture_default_str();
      command
          ->add_option("--leader-elect-retry-period", election.retry_period_seconds,
                       "Seconds between tries to acquire or renew")
          ->check(CLI::Range(1, 3600))
          ->capture_default_str();
      command->callback([options] { run_controller(*options); });
    }};

}  // namespace
}  // namespace maestro::cli
