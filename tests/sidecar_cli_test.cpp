// `maestro sidecar` as a process in front of the target app: requests pass through, /metrics on the
// metrics port counts them, bad HTTP is refused with 4xx without disturbing it, and SIGTERM exits 0.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <gtest/gtest.h>

#include "net/http_client.hpp"
#include "support/target_app_process.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;

// Sends raw bytes and returns the first answer (up to the end of its header, or what came before a close).
std::string raw_exchange(std::uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return "";
  }
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string answer;
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (answer.find("\r\n\r\n") == std::string::npos && std::chrono::steady_clock::now() < until) {
    pollfd readable{fd, POLLIN, 0};
    if (::poll(&readable, 1, 100) <= 0) continue;
    char chunk[4096];
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    answer.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return answer;
}

TEST(SidecarCli, ForwardsCountsRefusesBadHttpAndStopsCleanly) {
  auto app = testing::TargetApp::start({"--cpu-ms", "0.2"});
  ASSERT_TRUE(app.has_value()) << app.error().message;
  auto sidecar = testing::ChildProcess::spawn({std::string(MAESTRO_BINARY_DIR) + "/maestro", "sidecar",
                                               "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                                               "--upstream", fmt::format("127.0.0.1:{}", app->port)});
  ASSERT_TRUE(sidecar.has_value());
  std::optional<std::string> line;
  unsigned port = 0, metrics_port = 0;
  while ((line = sidecar->read_line(10s)))
    if (std::sscanf(line->c_str(), "listening on %u metrics on %u", &port, &metrics_port) == 2) break;
  ASSERT_GT(port, 0u);

  net::HttpClientOptions options;
  options.base_url = fmt::format("http://127.0.0.1:{}", port);
  options.retry.max_attempts = 1;
  net::HttpClient client(options);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(client.get("/work")->status, 200);
  EXPECT_EQ(client.get("/work?cpu_ms=oops")->status, 400);  // the application's own 400, passed through

  EXPECT_NE(raw_exchange(static_cast<std::uint16_t>(port), "GET /work HTTP/1.1\r\nHost x\r\n\r\n")
                .find("HTTP/1.1 400"),
            std::string::npos);
  EXPECT_NE(raw_exchange(static_cast<std::uint16_t>(port),
                         "GET /work HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(70'000, 'z') + "\r\n\r\n")
                .find("HTTP/1.1 431"),
            std::string::npos);
  EXPECT_EQ(client.get("/work")->status, 200);

  net::HttpClientOptions metrics_options;
  metrics_options.base_url = fmt::format("http://127.0.0.1:{}", metrics_port);
  net::HttpClient metrics_client(metrics_options);
  EXPECT_EQ(metrics_client.get("/healthz")->status, 200);
  std::string metrics;
  const auto until = std::chrono::steady_clock::now() + 5s;
  do {  // the sidecar records a request just after answering it: poll, with a deadline
    metrics = metrics_client.get("/metrics")->body;
  } while (metrics.find(R"(http_requests_total{code="200",method="GET"} 6)") == std::string::npos &&
           std::chrono::steady_clock::now() < until);
  EXPECT_NE(metrics.find(R"(http_requests_total{code="200",method="GET"} 6)"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find(R"(http_requests_total{code="400",method="GET"} 1)"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find(R"(http_request_duration_seconds_count{method="GET"} 7)"), std::string::npos);

  sidecar->signal(SIGTERM);
  const auto status = sidecar->wait(15s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

}  // namespace
}  // namespace maestro
