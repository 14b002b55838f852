// The latency sidecar in front of the target app and of misbehaving upstreams (slow answers, 5xx, resets,
// no listener, large streamed bodies): clients get what the application sent, and the sidecar's counts and
// latencies match what the clients saw.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <regex>
#include <thread>

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "services/sidecar/proxy.hpp"
#include "support/prometheus_server.hpp"
#include "support/raw_socket.hpp"
#include "support/target_app_load.hpp"
#include "support/target_app_process.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;

// The value of one sample line of the exposition, e.g. series =
// R"(http_requests_total{code="200",method="GET"})".
double sample(const std::string& exposition, const std::string& series) {
  const auto at = exposition.find(series + " ");
  if (at == std::string::npos) return 0;
  return std::stod(exposition.substr(at + series.size() + 1));
}

struct Sidecar;
double wait_for_sample(const Sidecar& sidecar, const std::string& series, double expected);

struct Sidecar {
  explicit Sidecar(std::uint16_t upstream_port, std::chrono::milliseconds upstream_timeout = 10s)
      : Sidecar({.upstream_host = "127.0.0.1",
                 .upstream_port = upstream_port,
                 .idle_timeout = 60s,
                 .upstream_timeout = upstream_timeout,
                 .drain_timeout = 5s,
                 .max_connections = 64}) {}
  explicit Sidecar(sidecar::ProxyOptions proxy_options) : proxy(std::move(proxy_options), registry) {
    auto bound = proxy.listen("127.0.0.1:0");
    EXPECT_TRUE(bound.has_value());
    port = bound.value_or(0);
    proxy.start();
    net::HttpClientOptions options;
    options.base_url = fmt::format("http://127.0.0.1:{}", port);
    options.retry.max_attempts = 1;
    options.total_timeout = 20s;
    client = std::make_unique<net::HttpClient>(options);
  }
  std::string metrics() const { return prometheus::TextSerializer().Serialize(registry.Collect()); }

  prometheus::Registry registry;
  sidecar::Proxy proxy;
  std::uint16_t port = 0;
  std::unique_ptr<net::HttpClient> client;
};

// The sidecar records a request just after its last byte went out, so the client may be a moment ahead:
// poll the metric until it has the expected value, with a deadline.
double wait_for_sample(const Sidecar& sidecar, const std::string& series, double expected) {
  const auto until = std::chrono::steady_clock::now() + 5s;
  double value = sample(sidecar.metrics(), series);
  while (value != expected && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(5ms);
    value = sample(sidecar.metrics(), series);
  }
  return value;
}

TEST(SidecarProxy, CountsAndLatenciesMatchTheClientsInFrontOfTheTargetApp) {
  auto app = testing::TargetApp::start({"--cpu-ms", "0.5", "--memory-kb", "16"});
  ASSERT_TRUE(app.has_value()) << app.error().message;
  Sidecar sidecar(app->port);

  testing::LoadGenerator load({.base_url = fmt::format("http://127.0.0.1:{}", sidecar.port),
                               .clients = 3,
                               .requests_per_second_per_client = 50,
                               .max_duration = 3s,
                               .path = [](std::size_t i) {
                                 // Every tenth request has a bad parameter: the app answers 400.
                                 return i % 10 == 9 ? std::string("/work?wait_ms=x")
                                                    : fmt::format("/work?wait_ms={}", i % 20);
                               }});
  load.start();
  load.wait();
  const auto completed = load.completed();
  ASSERT_GT(completed.size(), 100u);
  double ok = 0, bad = 0, latency_sum = 0;
  for (const auto& request : completed) {
    ok += request.status == 200;
    bad += request.status == 400;
    latency_sum += request.latency_seconds;
  }
  EXPECT_EQ(ok + bad, static_cast<double>(completed.size()));  // nothing else: no 502 on the way
  EXPECT_EQ(wait_for_sample(sidecar, R"(http_requests_total{code="200",method="GET"})", ok), ok);
  EXPECT_EQ(wait_for_sample(sidecar, R"(http_requests_total{code="400",method="GET"})", bad), bad);
  const std::string metrics = sidecar.metrics();
  EXPECT_EQ(sample(metrics, R"(http_requests_total{code="400",method="GET"})"), bad);
  const double count = sample(metrics, R"(http_request_duration_seconds_count{method="GET"})");
  const double sum = sample(metrics, R"(http_request_duration_seconds_sum{method="GET"})");
  EXPECT_EQ(count, static_cast<double>(completed.size()));
  // The sidecar's time is inside the client's: a little less, by the client's own share of the round trip.
  const double client_mean = latency_sum / static_cast<double>(completed.size());
  const double sidecar_mean = sum / count;
  EXPECT_LE(sidecar_mean, client_mean);
  EXPECT_NEAR(sidecar_mean, client_mean, 0.002 + 0.1 * client_mean);
}

// Sends `request` on a fresh loopback connection and returns the status line of the answer ("" if none).
std::string raw_status_line(std::uint16_t port, std::string_view request) {
  testing::RawSocket socket(port);
  socket.send(request);
  return socket.status_line();
}

// A path byte that is not UTF-8, forwarded by the sidecar, used to terminate the target app (issue 11,
// finding 1): the app answers 404 and goes on serving.
TEST(SidecarProxy, PathThatIsNotUtf8ReachesTheAppAndLeavesItServing) {
  auto app = testing::TargetApp::start({"--cpu-ms", "0"});
  ASSERT_TRUE(app.has_value()) << app.error().message;
  Sidecar sidecar(app->port);
  EXPECT_EQ(raw_status_line(sidecar.port, "GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(raw_status_line(app->port, "GET /work\xc3 HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 404 Not Found");
  const auto after = sidecar.client->get("/work?wait_ms=0");
  ASSERT_TRUE(after.has_value()) << after.error().message;
  EXPECT_EQ(after->status, 200);
}

class MisbehavingUpstream : public ::testing::Test {
 protected:
  void SetUp() override {
    upstream_.route("GET", "/slow", [](const net::HttpRequest&, net::HttpResponse& response) {
      std::this_thread::sleep_for(200ms);  // the application being slow
      response.body = R"({"slow":true})";
    });
    upstream_.route("GET", "/unavailable", [](const net::HttpRequest&, net::HttpResponse& response) {
      response = net::error_response(503, "overloaded");
      response.headers.emplace_back("Retry-After", "7");
    });
    upstream_.route("GET", "/hang", [](const net::HttpRequest&, net::HttpResponse& response) {
      std::this_thread::sleep_for(1500ms);
      response.body = "{}";
    });
    upstream_.route("POST", "/echo", [](const net::HttpRequest& request, net::HttpResponse& response) {
      response.content_type = "application/octet-stream";
      response.body = std::string(request.body);
    });
    auto port = upstream_.listen("127.0.0.1:0");
    ASSERT_TRUE(port.has_value());
    upstream_.start();
    sidecar_ = std::make_unique<Sidecar>(*port, 1s);
  }

  net::HttpServer upstream_{
      net::HttpServerOptions{.io_threads = 1, .handler_threads = 8, .max_body_bytes = 64 << 20}};
  std::unique_ptr<Sidecar> sidecar_;
};

TEST_F(MisbehavingUpstream, PassesErrorsAndSlowAnswersThroughAndCountsThem) {
  auto unavailable = sidecar_->client->get("/unavailable");
  ASSERT_TRUE(unavailable.has_value());
  EXPECT_EQ(unavailable->status, 503);
  EXPECT_EQ(unavailable->header("retry-after").value_or(""), "7");
  EXPECT_NE(unavailable->body.find("overloaded"), std::string::npos);

  const auto sent = std::chrono::steady_clock::now();
  auto slow = sidecar_->client->get("/slow");
  const double client_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  ASSERT_TRUE(slow.has_value());
  EXPECT_EQ(slow->status, 200);
  EXPECT_EQ(slow->body, R"({"slow":true})");

  auto missing = sidecar_->client->get("/nowhere");
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(wait_for_sample(*sidecar_, R"(http_requests_total{code="404",method="GET"})", 1), 1);

  // Silent beyond the sidecar's upstream timeout: 504, counted.
  auto hung = sidecar_->client->get("/hang");
  ASSERT_TRUE(hung.has_value());
  EXPECT_EQ(hung->status, 504);

  const std::string metrics = sidecar_->metrics();
  EXPECT_EQ(sample(metrics, R"(http_requests_total{code="503",method="GET"})"), 1) << metrics;
  EXPECT_EQ(sample(metrics, R"(http_requests_total{code="404",method="GET"})"), 1);
  EXPECT_EQ(sample(metrics, R"(http_requests_total{code="504",method="GET"})"), 1);
  EXPECT_EQ(sample(metrics, R"(maestro_sidecar_upstream_errors_total{kind="timeout"})"), 1);
  // The slow request's 200 ms are in the 0.2–0.3 s bucket, and no more than the client measured.
  EXPECT_EQ(sample(metrics, R"(http_request_duration_seconds_bucket{method="GET",le="0.2"})"), 2);
  EXPECT_EQ(sample(metrics, R"(http_request_duration_seconds_bucket{method="GET",le="0.3"})"), 3);
  EXPECT_LT(client_seconds, 0.3);
}

TEST_F(MisbehavingUpstream, StreamsLargeBodiesBothWaysUnchanged) {
  std::string body(8 << 20, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>((i * 2654435761u) >> 13);
  auto echoed = sidecar_->client->post("/echo", body, "application/octet-stream");
  ASSERT_TRUE(echoed.has_value());
  EXPECT_EQ(echoed->status, 200);
  EXPECT_EQ(echoed->body.size(), body.size());
  EXPECT_TRUE(echoed->body == body);
  EXPECT_EQ(wait_for_sample(*sidecar_, R"(http_requests_total{code="200",method="POST"})", 1), 1);
}

// An "application" that accepts, takes the request and closes without answering.
class ResettingUpstream {
 public:
  ResettingUpstream() : listener_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t size = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    ::listen(listener_, 16);
    thread_ = std::thread([this] {
      while (true) {
        const int connection = ::accept(listener_, nullptr, nullptr);
        if (connection < 0) return;  // shut down
        char request[4096];
        ::recv(connection, request, sizeof request, 0);
        ::close(connection);
      }
    });
  }
  ~ResettingUpstream() {
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }
  std::uint16_t port() const { return port_; }

 private:
  int listener_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

TEST(SidecarProxy, UpstreamThatResetsOrIsNotThereGives502) {
  {
    ResettingUpstream upstream;
    Sidecar sidecar(upstream.port());
    for (int i = 0; i < 3; ++i) {
      auto reset = sidecar.client->get("/anything");
      ASSERT_TRUE(reset.has_value());
      EXPECT_EQ(reset->status, 502);
    }
    EXPECT_EQ(sample(sidecar.metrics(), R"(http_requests_total{code="502",method="GET"})"), 3)
        << sidecar.metrics();
    // Closed before answering: seen while reading the answer, or already while sending the request.
    const std::string metrics = sidecar.metrics();
    EXPECT_EQ(sample(metrics, R"(maestro_sidecar_upstream_errors_total{kind="reset"})") +
                  sample(metrics, R"(maestro_sidecar_upstream_errors_total{kind="request"})"),
              3);
  }

  Sidecar nowhere(testing::free_loopback_port());
  auto refused = nowhere.client->get("/");
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 502);
  EXPECT_EQ(sample(nowhere.metrics(), R"(maestro_sidecar_upstream_errors_total{kind="connect"})"), 1);
}

TEST(SidecarProxy, ServesManyRequestsOnOneKeepAliveConnection) {
  std::atomic<int> handled{0};
  net::HttpServer upstream;
  upstream.route("GET", "/", [&](const net::HttpRequest&, net::HttpResponse& response) {
    ++handled;
    response.body = "{}";
  });
  ASSERT_TRUE(upstream.listen("127.0.0.1:0").has_value());
  upstream.start();
  Sidecar sidecar(upstream.port());
  for (int i = 0; i < 50; ++i) ASSERT_EQ(sidecar.client->get("/")->status, 200);
  // Fifty requests on one keep-alive client connection all reached the application and were counted.
  EXPECT_EQ(handled.load(), 50);
  EXPECT_EQ(wait_for_sample(sidecar, R"(http_requests_total{code="200",method="GET"})", 50), 50);
}

// An upstream that answers anything, for the tests of what the sidecar refuses itself.
struct EchoUpstream {
  EchoUpstream() {
    server.route("POST", "/echo", [](const net::HttpRequest& request, net::HttpResponse& response) {
      response.content_type = "text/plain";
      response.body = std::string(request.body);
    });
    server.route("GET", "/",
                 [](const net::HttpRequest&, net::HttpResponse& response) { response.body = "{}"; });
    port = server.listen("127.0.0.1:0").value_or(0);
    server.start();
  }
  sidecar::ProxyOptions options() const {
    return {.upstream_host = "127.0.0.1", .upstream_port = port, .drain_timeout = 5s, .max_connections = 64};
  }
  net::HttpServer server;
  std::uint16_t port = 0;
};

// "5;x=" and then hundreds of MB: a chunk-size line is parsed only once complete, and it grew the sidecar's
// read buffer by as much (523 MB in the audit).
TEST(SidecarProxy, AChunkExtensionIsRefusedWithoutBeingBuffered) {
  EchoUpstream upstream;
  Sidecar sidecar(upstream.options());
  testing::RawSocket socket(sidecar.port);
  socket.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;x=");
  const std::string piece(64 << 10, 'a');
  for (int i = 0; i < 64 && socket.try_send(piece); ++i) {
  }
  EXPECT_EQ(socket.status_line(), "HTTP/1.1 413 Payload Too Large");
  EXPECT_TRUE(socket.closed_by_peer());
  EXPECT_EQ(sidecar.client->get("/")->status, 200);
}

// The method is a label: 3,000 invented ones made 3,002 series that were never freed.
TEST(SidecarProxy, MethodsOutsideTheStandardSetAreCountedAsOther) {
  EchoUpstream upstream;
  Sidecar sidecar(upstream.options());
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(raw_status_line(sidecar.port,
                              fmt::format("M{} / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", i)),
              "HTTP/1.1 405 Method Not Allowed");
  ASSERT_EQ(raw_status_line(sidecar.port, "TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            "HTTP/1.1 405 Method Not Allowed");
  EXPECT_EQ(wait_for_sample(sidecar, R"(http_requests_total{code="405",method="other"})", 20), 20);
  EXPECT_EQ(wait_for_sample(sidecar, R"(http_requests_total{code="405",method="TRACE"})", 1), 1);
  EXPECT_EQ(sidecar.metrics().find("method=\"M"), std::string::npos);
}

// A header sent a byte at a time was timed by the idle timeout (60 s): now by the header timeout.
TEST(SidecarProxy, AHeaderArrivingSlowlyHasTheHeaderTimeoutAndAnIdleConnectionTheIdleTimeout) {
  EchoUpstream upstream;
  auto options = upstream.options();
  options.idle_timeout = 60s;
  options.header_timeout = 300ms;
  Sidecar sidecar(options);
  testing::RawSocket idle(sidecar.port), slow(sidecar.port);
  slow.send("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: a");
  EXPECT_TRUE(slow.closed_by_peer());
  EXPECT_FALSE(idle.closed_by_peer(0ms));
  idle.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(idle.status_line(), "HTTP/1.1 200 OK");
}

// Slow clients holding every slot made every real request 503 (150 of them, a byte a second).
TEST(SidecarProxy, AtTheConnectionCapSlowClientsMakeWayForRealRequests) {
  EchoUpstream upstream;
  auto options = upstream.options();
  options.max_connections = 4;
  Sidecar sidecar(options);
  std::vector<std::unique_ptr<testing::RawSocket>> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(std::make_unique<testing::RawSocket>(sidecar.port));
    slow.back()->send("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: a");
  }
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(raw_status_line(sidecar.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 200 OK");
  // Each real request took the slot of a slow client, or of a real one gone idle before it.
  int cut = 0;
  for (auto& client : slow) cut += client->closed_by_peer(200ms) ? 1 : 0;
  EXPECT_GE(cut, 1);
}

// Connection threads were detached: one could still be closing its sockets after the proxy (and the
// io_context they belong to) was gone.
TEST(SidecarProxy, StopJoinsEveryConnectionThread) {
  EchoUpstream upstream;
  const auto threads = [] {
    return std::distance(std::filesystem::directory_iterator("/proc/self/task"),
                         std::filesystem::directory_iterator{});
  };
  const auto before = threads();
  prometheus::Registry registry;
  sidecar::Proxy proxy(upstream.options(), registry);
  const auto port = proxy.listen("127.0.0.1:0");
  ASSERT_TRUE(port.has_value());
  proxy.start();
  std::vector<std::unique_ptr<testing::RawSocket>> clients;
  for (int i = 0; i < 16; ++i) {
    clients.push_back(std::make_unique<testing::RawSocket>(*port));
    clients.back()->send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(clients.back()->status_line(), "HTTP/1.1 200 OK");
  }
  EXPECT_GT(threads(), before + 16);
  proxy.stop();
  EXPECT_EQ(threads(), before);
}

}  // namespace
}  // namespace maestro
