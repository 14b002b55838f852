// `maestro local kube-api --listen ADDR`: runs the Kubernetes API test double (local::FakeKubeApi) as a
// process, for end-to-end tests and demos on one machine, until SIGTERM or SIGINT.
#include <csignal>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/local_command.hpp"
#include "local/fake_kube_api.hpp"
#include "net/http_server.hpp"

namespace maestro::cli {
namespace {

struct Options {
  std::string listen = "127.0.0.1:0";
  std::string token = "local-token";
  std::vector<std::string> deployments;
  bool autoscale = false;
  int threads = 16;
};

// "NAMESPACE/NAME" or "NAMESPACE/NAME=REPLICAS".
local::FakeDeployment parse_deployment(const std::string& text, bool autoscale) {
  local::FakeDeployment deployment;
  const auto slash = text.find('/');
  const auto eq = text.find('=');
  if (slash == std::string::npos || slash == 0 || slash + 1 >= std::min(eq, text.size()))
    throw CLI::ValidationError("--deployment", "expected NAMESPACE/NAME[=REPLICAS], got \"" + text + "\"");
  deployment.namespace_ = text.substr(0, slash);
  deployment.name = text.substr(slash + 1, eq == std::string::npos ? std::string::npos : eq - slash - 1);
  if (eq != std::string::npos) {
    try {
      std::size_t used = 0;
      deployment.replicas = std::stoi(text.substr(eq + 1), &used);
      if (used != text.size() - eq - 1 || deployment.replicas < 0) throw std::invalid_argument("replicas");
    } catch (const std::exception&) {
      throw CLI::ValidationError("--deployment",
                                 "replicas must be a non-negative integer in \"" + text + "\"");
    }
  }
  if (autoscale) deployment.annotations["maestro.io/autoscale"] = "true";
  return deployment;
}

void run_kube_api(const Options& options) {
  std::vector<local::FakeDeployment> deployments;
  for (const auto& text : options.deployments)
    deployments.push_back(parse_deployment(text, options.autoscale));
  const auto address = net::parse_listen_address(options.listen);
  if (!address) throw CLI::ValidationError("--listen", address.error().message);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  local::FakeKubeApi api(options.token, options.threads);
  for (const auto& deployment : deployments) api.put_deployment(deployment);
  auto port = api.start(address->first, address->second);
  if (!port) throw CommandFailed(port.error().message);
  std::cout << "maestro local kube-api: serving http://" << address->first << ":" << *port << " (token "
            << options.token << ")" << std::endl;
  int received = 0;
  sigwait(&signals, &received);
  api.stop();
}

const Registration kRegistration{
    "local kube-api", [](CLI::App& maestro) {
      CLI::App* local = &local_command(maestro);
      auto options = std::make_shared<Options>();
      auto* command = local->add_subcommand("kube-api", "Serve the Kubernetes API test double");
      command->add_option("--listen", options->listen, "HOST:PORT to listen on (port 0: any free port)");
      command->add_option("--token", options->token,
                          "Bearer token clients must send (\"\": none; kubectl sends none over plain HTTP)");
      command->add_option("--deployment", options->deployments,
                          "NAMESPACE/NAME[=REPLICAS] to create (repeatable)");
      command->add_flag("--autoscale", options->autoscale,
                        "Annotate the created deployments maestro.io/autoscale=true");
      command->add_option("--threads", options->threads, "Request handler threads")
          ->check(CLI::Range(1, 1024));
      command->callback([options] { run_kube_api(*options); });
    }};

}  // namespace
}  // namespace maestro::cli
