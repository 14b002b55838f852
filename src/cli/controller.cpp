// `maestro controller --config FILE`: runs the autoscaling controller (services/controller) until SIGTERM or
// SIGINT, serving /metrics, /healthz and /readyz on the configured address.
#include <csignal>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include "cli/command.hpp"
#include "core/clock.hpp"
#include "kube/client.hpp"
#include "net/http_server.hpp"
#include "net/secret_file.hpp"
#include "prom/credentials.hpp"
#include "services/controller/config.hpp"
#include "services/controller/controller.hpp"
#include "services/controller/suggestion_client.hpp"

namespace maestro::cli {
namespace {

struct Options {
  std::string config;
  bool once = false;
};

void run_controller(const Options& options) {
  auto config = controller::load_controller_config(options.config);
  if (!config) throw CLI::ValidationError("--config", config.error().message);

  core::RealClock clock;
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

  // Signals go to the thread that waits for them, not to whichever thread happens to run.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  net::HttpServer server;
  controller::Controller controller(*config, kube, suggestions, clock, server.registry());
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
  if (options.once) {
    failed = controller.reconcile_all();
  } else {
    std::thread signal_waiter([&controller, signals] {
      int received = 0;
      sigwait(&signals, &received);
      spdlog::info("signal {} received, stopping", received);
      controller.stop();
    });
    controller.run();
    // run() returned because of stop(): from the signal thread, which has finished or is finishing.
    signal_waiter.join();
  }
  server.stop();
  if (failed > 0) throw CommandFailed(fmt::format("{} deployment(s) could not be reconciled", failed));
}

const Registration kRegistration{
    "controller", [](CLI::App& maestro) {
      auto options = std::make_shared<Options>();
      auto* command = maestro.add_subcommand("controller", "Scale deployments with the policy's suggestions");
      command->add_option("--config", options->config, "Controller YAML configuration")
          ->required()
          ->check(CLI::ExistingFile);
      command->add_flag("--once", options->once,
                        "Reconcile every managed deployment once, then exit (1 if any failed)");
      command->callback([options] { run_controller(*options); });
    }};

}  // namespace
}  // namespace maestro::cli
