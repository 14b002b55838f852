// maestro-target-app: the sample application to autoscale. Each request to /work (any method) costs CPU
// time, memory and waiting as configured by flags or by its query (cpu_ms, memory_kb, wait_ms); the service
// exports http_requests_total and http_request_duration_seconds on /metrics, which the default PromQL
// queries of the StateBuilder read. It prints "listening on PORT" once it accepts connections.
#include <cstdio>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "net/http_server.hpp"
#include "work.hpp"

int main(int argc, char** argv) {
  using namespace maestro;
  CLI::App app{"maestro-target-app: an HTTP service with a configurable cost per request",
               "maestro-target-app"};
  std::string listen = "0.0.0.0:8080";
  double cpu_ms = 1;
  double memory_kb = 64;
  double wait_ms = 0;
  int workers = 16;
  app.add_option("--listen", listen, "Address to serve on (HOST:PORT; port 0 picks a free one)")
      ->capture_default_str();
  app.add_option("--cpu-ms", cpu_ms, "CPU time per request, milliseconds")
      ->check(CLI::Range(0.0, 60'000.0))
      ->capture_default_str();
  app.add_option("--memory-kb", memory_kb, "Memory held per request, KiB")
      ->check(CLI::Range(0.0, 1024.0 * 1024))
      ->capture_default_str();
  app.add_option("--wait-ms", wait_ms, "Time per request spent waiting, milliseconds")
      ->check(CLI::Range(0.0, 60'000.0))
      ->capture_default_str();
  app.add_option("--workers", workers, "Threads that handle requests")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  using Ms = std::chrono::duration<double, std::milli>;
  const target_app::RequestCost defaults{std::chrono::duration_cast<std::chrono::microseconds>(Ms(cpu_ms)),
                                         static_cast<std::size_t>(memory_kb * 1024),
                                         std::chrono::duration_cast<std::chrono::microseconds>(Ms(wait_ms))};

  net::HttpServer server(net::HttpServerOptions{.io_threads = 1, .handler_threads = workers});
  const auto work = [&defaults](const net::HttpRequest& request, net::HttpResponse& response) {
    auto cost = target_app::cost_of(request, defaults);
    if (!cost) {
      response = net::error_response(400, cost.error().message);
      return;
    }
    const auto digest = target_app::spend(*cost);
    response.body = fmt::format(R"({{"digest":{}}})", digest % 1000);
  };
  for (const char* method : {"GET", "POST"}) server.route(method, "/work", work);
  server.stop_on_signals();

  auto port = server.listen(listen);
  if (!port) {
    spdlog::error("{}", port.error().message);
    return 1;
  }
  std::printf("listening on %u\n", static_cast<unsigned>(*port));
  std::fflush(stdout);
  server.run();
  return 0;
}
