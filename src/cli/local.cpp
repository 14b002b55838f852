// `maestro local up [--config FILE]`: runs the local cluster (local::LocalCluster) in the foreground until
// Ctrl-C, SIGTERM or `maestro local down`, which stops every pod gracefully; a crash of this process takes
// the pods with it (their death signal). `maestro local down` stops the cluster its state folder names.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "cli/command.hpp"
#include "cli/local_command.hpp"
#include "local/local_cluster.hpp"

namespace maestro::cli {
namespace {

struct UpOptions {
  std::string config;
  std::string state_dir;
};

std::filesystem::path pid_file(const std::filesystem::path& state_dir) {
  return state_dir / "maestro-local.pid";
}

// Whether `pid` runs: not gone and not a zombie its parent has yet to reap.
bool running(pid_t pid) {
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  const std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z';
}

// The pid of the `local up` recorded in `state_dir`, if that process still runs.
std::optional<pid_t> running_cluster(const std::filesystem::path& state_dir) {
  std::ifstream file(pid_file(state_dir));
  pid_t pid = 0;
  if (!(file >> pid) || pid <= 0) return std::nullopt;
  if (!running(pid)) return std::nullopt;
  return pid;
}

void run_up(const UpOptions& options) {
  local::LocalConfig config;
  if (!options.config.empty()) {
    auto loaded = local::load_local_config(options.config);
    if (!loaded) throw CLI::ValidationError("--config", loaded.error().message);
    config = std::move(*loaded);
  }
  if (!options.state_dir.empty()) config.state_dir = options.state_dir;
  if (const auto other = running_cluster(config.state_dir))
    throw CommandFailed(
        fmt::format("a local cluster (pid {}) already runs in {}; `maestro local down` stops it", *other,
                    config.state_dir.string()));

  // Blocked before any thread starts, so that every thread inherits the mask and sigwait alone receives them.
  sigset_t signals;
  sigemptyset(&signals);
  for (int signo : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals, signo);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  local::LocalCluster cluster(config);
  if (auto started = cluster.start(); !started) {
    cluster.stop();
    throw CommandFailed(started.error().message);
  }
  std::ofstream(pid_file(config.state_dir)) << ::getpid() << "\n";
  std::cout << "maestro local: Kubernetes API " << cluster.api_url() << "\n";
  std::cout << "maestro local: kubeconfig " << cluster.kubeconfig().string()
            << "   (export KUBECONFIG=" << cluster.kubeconfig().string() << ")\n";
  if (!cluster.prometheus_url().empty())
    std::cout << "maestro local: Prometheus " << cluster.prometheus_url() << "\n";
  std::cout << "maestro local: container metrics " << cluster.metrics_url() << "\n";
  std::cout << "maestro local: chaos " << cluster.chaos_url() << "   (maestro local chaos apply FILE)\n";
  for (const auto& deployment : config.deployments)
    std::cout << "maestro local: service " << deployment.namespace_ << "/" << deployment.name
              << " http://127.0.0.1:"
              << cluster.service_port(deployment.namespace_, deployment.name).value_or(0) << "\n";
  std::cout << "maestro local: pods "
            << (cluster.cgroups() ? "in cgroups with CPU and memory limits"
                                  : "WITHOUT limits (no writable cgroups), measured from /proc")
            << "\n";
  std::cout << "maestro local: up; Ctrl-C or `maestro local down` stops it" << std::endl;

  int received = 0;
  sigwait(&signals, &received);
  std::cout << "maestro local: stopping (signal " << received << ")" << std::endl;
  cluster.stop();
  std::filesystem::remove(pid_file(config.state_dir));
  std::cout << "maestro local: down" << std::endl;
}

void run_down(const std::string& state_dir) {
  const auto pid = running_cluster(state_dir);
  if (!pid) {
    std::cout << "maestro local: no cluster runs in " << state_dir << std::endl;
    return;
  }
  ::kill(*pid, SIGTERM);
  // Pods get their grace period; give them it and some more.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (running(*pid) && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // waiting for its exit, with a deadline
  if (running(*pid))
    throw CommandFailed(fmt::format("the local cluster (pid {}) did not stop within 90 s", *pid));
  std::cout << "maestro local: stopped pid " << *pid << std::endl;
}

const Registration kRegistration{
    "local up", [](CLI::App& maestro) {
      CLI::App& local = local_command(maestro);
      auto up_options = std::make_shared<UpOptions>();
      auto* up = local.add_subcommand(
          "up", "Run the local cluster: Kubernetes API, pods, load balancers, Prometheus");
      up->add_option("--config", up_options->config, "YAML file (docs/local-cluster.md); defaults without it")
          ->check(CLI::ExistingFile);
      up->add_option(
          "--state-dir", up_options->state_dir,
          "Folder for the kubeconfig, logs and Prometheus data (overrides the config's state_dir)");
      up->callback([up_options] { run_up(*up_options); });

      auto down_dir = std::make_shared<std::string>(local::LocalConfig{}.state_dir.string());
      auto* down = local.add_subcommand("down", "Stop the local cluster that `local up` runs");
      down->add_option("--state-dir", *down_dir, "The state folder of the cluster to stop")
          ->capture_default_str();
      down->callback([down_dir] { run_down(*down_dir); });
    }};

}  // namespace
}  // namespace maestro::cli
