// `maestro sidecar --listen ADDR --upstream HOST:PORT`: the latency sidecar (services/sidecar), a reverse
// proxy in front of an application that exports http_requests_total and http_request_duration_seconds for
// it on --metrics-listen (with /healthz and /readyz). Runs until SIGTERM or SIGINT, then finishes the
// requests in flight. Prints "listening on PORT metrics on PORT" once it accepts connections.
#include <iostream>

#include <spdlog/spdlog.h>

#include "cli/command.hpp"
#include "net/http_server.hpp"
#include "services/sidecar/proxy.hpp"

namespace maestro::cli {
namespace {

struct SidecarFlags {
  std::string listen = "127.0.0.1:8000";
  std::string upstream;
  std::string metrics_listen = "127.0.0.1:9091";
  int idle_timeout_ms = 60'000;
  int header_timeout_ms = 10'000;
  int upstream_timeout_ms = 60'000;
  int max_connections = 1024;
};

void run_sidecar(const SidecarFlags& flags) {
  auto upstream = sidecar::parse_upstream(flags.upstream);
  if (!upstream) throw CLI::ValidationError("--upstream", upstream.error().message);
  if (auto listen = net::parse_listen_address(flags.listen); !listen)
    throw CLI::ValidationError("--listen", listen.error().message);
  if (auto metrics = net::parse_listen_address(flags.metrics_listen); !metrics)
    throw CLI::ValidationError("--metrics-listen", metrics.error().message);

  net::HttpServer metrics_server;
  sidecar::Proxy proxy({.upstream_host = upstream->first,
                        .upstream_port = upstream->second,
                        .idle_timeout = std::chrono::milliseconds(flags.idle_timeout_ms),
                        .header_timeout = std::chrono::milliseconds(flags.header_timeout_ms),
                        .upstream_timeout = std::chrono::milliseconds(flags.upstream_timeout_ms),
                        .drain_timeout = std::chrono::seconds(10),
                        .max_connections = flags.max_connections},
                       metrics_server.registry());
  auto port = proxy.listen(flags.listen);
  if (!port) throw CommandFailed(port.error().message);
  auto metrics_port = metrics_server.listen(flags.metrics_listen);
  if (!metrics_port) throw CommandFailed(metrics_port.error().message);
  proxy.start();
  std::cout << "listening on " << *port << " metrics on " << *metrics_port << std::endl;
  spdlog::info("sidecar on port {} forwarding to {}; metrics on port {}", *port, flags.upstream,
               *metrics_port);
  metrics_server.stop_on_signals();
  metrics_server.run();  // until SIGTERM or SIGINT
  proxy.stop();
}

const Registration kRegistration{
    "sidecar", [](CLI::App& maestro) {
      auto flags = std::make_shared<SidecarFlags>();
      auto* sidecar =
          maestro.add_subcommand("sidecar", "Reverse proxy exporting request counts and latencies of an app");
      sidecar->add_option("--listen", flags->listen, "Address clients connect to")->capture_default_str();
      sidecar->add_option("--upstream", flags->upstream, "The application, HOST:PORT")->required();
      sidecar
          ->add_option("--metrics-listen", flags->metrics_listen, "Address of /metrics, /healthz and /readyz")
          ->capture_default_str();
      sidecar
          ->add_option("--idle-timeout-ms", flags->idle_timeout_ms, "Close client connections idle this long")
          ->check(CLI::Range(10, 3'600'000))
          ->capture_default_str();
      sidecar
          ->add_option("--header-timeout-ms", flags->header_timeout_ms,
                       "Close client connections whose request header takes longer than this")
          ->check(CLI::Range(10, 3'600'000))
          ->capture_default_str();
      sidecar
          ->add_option("--upstream-timeout-ms", flags->upstream_timeout_ms,
                       "Answer 504 when the application is silent this long")
          ->check(CLI::Range(10, 3'600'000))
          ->capture_default_str();
      sidecar->add_option("--max-connections", flags->max_connections)
          ->check(CLI::Range(1, 100'000))
          ->capture_default_str();
      sidecar->callback([flags] { run_sidecar(*flags); });
    }};

}  // namespace
}  // namespace maestro::cli
