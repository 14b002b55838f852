// Tests of net::HttpServer over real loopback sockets: routing, limits, timeouts, keep-alive, the built-in
// endpoints and graceful stop.
#include "net/http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <latch>
#include <thread>

#include <gtest/gtest.h>

#include "net/http_client.hpp"
#include "support/raw_socket.hpp"

namespace maestro::net {
namespace {

using testing::RawSocket;

using namespace std::chrono_literals;

HttpClientOptions client_options(std::uint16_t port) {
  HttpClientOptions options;
  options.base_url = fmt::format("http://127.0.0.1:{}", port);
  options.retry.max_attempts = 1;  // a retried request would hide what the server answered
  return options;
}

struct Served {
  explicit Served(HttpServerOptions options = {}) : server(std::move(options)) {}
  void start() {
    auto port = server.listen("127.0.0.1:0");
    ASSERT_TRUE(port.has_value()) << port.error().message;
    server.start();
    client = std::make_unique<HttpClient>(client_options(*port));
  }
  HttpServer server;
  std::unique_ptr<HttpClient> client;
};

void add_echo(HttpServer& server) {
  server.route("POST", "/echo", [](const HttpRequest& request, HttpResponse& response) {
    response.content_type = "text/plain";
    response.body = std::string(request.body);
  });
  server.route("GET", "/hello", [](const HttpRequest& request, HttpResponse& response) {
    response.body = fmt::format(R"({{"name":"{}"}})", request.query_param("name").value_or("nobody"));
  });
}

TEST(HttpServer, RoutesByPathAndMethod) {
  Served s;
  add_echo(s.server);
  s.start();
  auto echoed = s.client->post("/echo", "payload", "text/plain");
  ASSERT_TRUE(echoed.has_value());
  EXPECT_EQ(echoed->status, 200);
  EXPECT_EQ(echoed->body, "payload");

  auto hello = s.client->get("/hello?name=a%20b+c&x=1");
  ASSERT_TRUE(hello.has_value());
  EXPECT_EQ(hello->body, R"({"name":"a b c"})");

  auto missing = s.client->get("/nowhere");
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find("\"error\""), std::string::npos);

  auto wrong_method = s.client->get("/echo");
  ASSERT_TRUE(wrong_method.has_value());
  EXPECT_EQ(wrong_method->status, 405);
  EXPECT_EQ(wrong_method->header("allow").value_or(""), "POST");
}

TEST(HttpServer, QueryParametersAreDecoded) {
  HttpRequest request;
  request.query = "deployment=web%2Dapp&namespace=&flag&deployment=second";
  EXPECT_EQ(request.query_param("deployment"), "web-app");
  EXPECT_EQ(request.query_param("namespace"), "");
  EXPECT_EQ(request.query_param("flag"), "");
  EXPECT_EQ(request.query_param("absent"), std::nullopt);
}

TEST(HttpServer, ParsesListenAddresses) {
  EXPECT_EQ(parse_listen_address("127.0.0.1:8080").value(),
            (std::pair<std::string, std::uint16_t>{"127.0.0.1", 8080}));
  EXPECT_EQ(parse_listen_address(":9090").value().first, "0.0.0.0");
  EXPECT_EQ(parse_listen_address("9090").value().second, 9090);
  EXPECT_EQ(parse_listen_address("[::1]:80").value().first, "::1");
  EXPECT_FALSE(parse_listen_address("localhost:80").has_value());
  EXPECT_FALSE(parse_listen_address("127.0.0.1:").has_value());
  EXPECT_FALSE(parse_listen_address("127.0.0.1:70000").has_value());
  EXPECT_FALSE(parse_listen_address("127.0.0.1:80x").has_value());
}

TEST(HttpServer, HealthReadinessAndMetrics) {
  Served s;
  add_echo(s.server);
  std::atomic<bool> ready{false};
  s.server.set_readiness([&] { return ready.load(); });
  s.start();
  EXPECT_EQ(s.client->get("/healthz")->status, 200);
  EXPECT_EQ(s.client->get("/readyz")->status, 503);
  ready = true;
  EXPECT_EQ(s.client->get("/readyz")->status, 200);
  EXPECT_EQ(s.client->post("/healthz", "{}")->status, 405);
  EXPECT_EQ(s.client->post("/metrics", "{}")->status, 405);

  ASSERT_EQ(s.client->post("/echo", "x", "text/plain")->status, 200);
  ASSERT_EQ(s.client->post("/echo", "y", "text/plain")->status, 200);
  ASSERT_EQ(s.client->get("/echo")->status, 405);
  auto metrics = s.client->get("/metrics");
  ASSERT_TRUE(metrics.has_value());
  EXPECT_EQ(metrics->header("content-type").value_or(""), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = metrics->body;
  EXPECT_NE(text.find(R"(http_requests_total{code="200",handler="/echo",method="POST"} 2)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(http_requests_total{code="405",handler="/echo",method="GET"} 1)"), std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(http_request_duration_seconds_count{handler="/echo",method="POST"} 2)"),
            std::string::npos);
  // Probes and scrapes are not application traffic.
  EXPECT_EQ(text.find(R"(handler="/healthz")"), std::string::npos);
  EXPECT_EQ(text.find(R"(handler="/metrics")"), std::string::npos);
}

TEST(HttpServer, KeepAliveServesPipelinedRequestsOnOneConnection) {
  Served s;
  add_echo(s.server);
  s.start();
  RawSocket socket(s.server.port());
  ASSERT_TRUE(socket.connected());
  socket.send(
      "GET /hello?name=one HTTP/1.1\r\nHost: x\r\n\r\nGET /hello?name=two HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string both = socket.read_until(R"({"name":"two"})");
  EXPECT_NE(both.find(R"({"name":"one"})"), std::string::npos);
  EXPECT_NE(both.find(R"({"name":"two"})"), std::string::npos);
  EXPECT_EQ(both.find("Connection: close"), std::string::npos);
  EXPECT_FALSE(socket.closed_by_peer(100ms));
}

TEST(HttpServer, BodyOverTheLimitIs413AndTheServerStaysHealthy) {
  Served s(HttpServerOptions{.max_body_bytes = 1000});
  add_echo(s.server);
  s.start();
  auto too_big = s.client->post("/echo", std::string(1001, 'x'), "text/plain");
  ASSERT_TRUE(too_big.has_value());
  EXPECT_EQ(too_big->status, 413);
  auto at_limit = s.client->post("/echo", std::string(1000, 'x'), "text/plain");
  ASSERT_TRUE(at_limit.has_value());
  EXPECT_EQ(at_limit->status, 200);
  EXPECT_EQ(at_limit->body.size(), 1000u);

  // Chunked bodies have no Content-Length to check up front; they are cut off as they cross the limit.
  RawSocket chunked(s.server.port());
  chunked.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n" +
               std::string(1000, 'y') + "\r\n");
  chunked.send("10\r\n0123456789abcdef\r\n0\r\n\r\n");
  EXPECT_NE(chunked.read_until("\r\n\r\n").find("HTTP/1.1 413"), std::string::npos);
  EXPECT_TRUE(chunked.closed_by_peer());
  EXPECT_EQ(s.client->get("/healthz")->status, 200);
}

TEST(HttpServer, HeaderOverTheLimitIs431) {
  Served s(HttpServerOptions{.max_header_bytes = 512});
  add_echo(s.server);
  s.start();
  RawSocket socket(s.server.port());
  socket.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(600, 'z') + "\r\n\r\n");
  EXPECT_NE(socket.read_until("\r\n\r\n").find("HTTP/1.1 431"), std::string::npos);
  EXPECT_TRUE(socket.closed_by_peer());
}

// A chunk-size line is parsed only once complete, and Beast counts its extensions against neither limit:
// "5;x=" and then hundreds of MB grew the read buffer by as much (25 -> 538 MB in the audit).
TEST(HttpServer, AChunkExtensionCannotGrowTheReadBuffer) {
  Served s;
  add_echo(s.server);
  s.start();
  RawSocket socket(s.server.port());
  socket.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;x=");
  const std::string piece(64 << 10, 'a');
  for (int i = 0; i < 64 && socket.try_send(piece); ++i) {
  }
  const std::string answer = socket.read_until("\r\n\r\n");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer.substr(0, 100);
  EXPECT_TRUE(socket.closed_by_peer());
  EXPECT_EQ(s.client->get("/healthz")->status, 200);
}

// Small extensions on many small chunks add up: each request's together are capped.
TEST(HttpServer, ChunkExtensionsOfOneRequestAreCappedTogether) {
  Served s;
  add_echo(s.server);
  s.start();
  RawSocket socket(s.server.port());
  std::string request = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 10; ++i) request += "1;x=" + std::string(1000, 'e') + "\r\nz\r\n";
  socket.send(request + "0\r\n\r\n");
  const std::string answer = socket.read_until("}");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer.substr(0, 100);
  EXPECT_NE(answer.find("chunk extensions"), std::string::npos);

  RawSocket modest(s.server.port());  // a few short extensions are still fine
  modest.send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a=b\r\nhi\r\n0;c\r\n\r\n");
  EXPECT_NE(modest.read_until("hi").find("HTTP/1.1 200"), std::string::npos);
}

TEST(HttpServer, MalformedRequestIs400) {
  Served s;
  add_echo(s.server);
  s.start();
  RawSocket socket(s.server.port());
  socket.send("GET /hello HTTP/1.1\r\nHost x\r\n\r\n");
  EXPECT_NE(socket.read_until("\r\n\r\n").find("HTTP/1.1 400"), std::string::npos);
  EXPECT_TRUE(socket.closed_by_peer());
  EXPECT_EQ(s.client->get("/healthz")->status, 200);
}

// A path byte that is not UTF-8 used to throw from the 404 body's JSON serialiser, outside any handler,
// and terminate the process: one request killed every service.
TEST(HttpServer, PathThatIsNotUtf8Is404AndTheServerStaysUp) {
  Served s;
  add_echo(s.server);
  s.start();
  for (const std::string_view path : {"/\xff", "/echo\xc3", "/\xed\xa0\x80", "/%FF"}) {
    RawSocket socket(s.server.port());
    socket.send(fmt::format("GET {} HTTP/1.1\r\nHost: x\r\n\r\n", path));
    const std::string answer = socket.read_until("}");
    EXPECT_NE(answer.find("HTTP/1.1 404"), std::string::npos) << answer;
    const auto body = nlohmann::json::parse(answer.substr(answer.find("\r\n\r\n") + 4), nullptr, false);
    ASSERT_TRUE(body.is_object()) << answer;
    EXPECT_TRUE(body.at("error").get<std::string>().starts_with("no such endpoint: /"));
  }
  RawSocket wrong_method(s.server.port());
  wrong_method.send("PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  EXPECT_NE(wrong_method.read_until("}").find("HTTP/1.1 405"), std::string::npos);
  EXPECT_EQ(s.client->get("/healthz")->status, 200);
}

TEST(HttpServer, ErrorBodiesReplaceBytesThatAreNotUtf8) {
  const auto response = error_response(400, "bad \xff\xfe name");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(nlohmann::json::parse(response.body).at("error"), "bad \xef\xbf\xbd\xef\xbf\xbd name");
  EXPECT_EQ(json_text(nlohmann::json{{"ok", "caf\xc3\xa9"}}), "{\"ok\":\"caf\xc3\xa9\"}");
}

TEST(HttpServer, AnswersExpectContinueBeforeTheBody) {
  Served s;
  add_echo(s.server);
  s.start();
  RawSocket socket(s.server.port());
  socket.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_NE(socket.read_until("\r\n\r\n").find("HTTP/1.1 100 Continue"), std::string::npos);
  socket.send("hello");
  EXPECT_NE(socket.read_until("hello").find("HTTP/1.1 200"), std::string::npos);
}

TEST(HttpServer, HandlerExceptionIs500) {
  Served s;
  s.server.route("GET", "/throw",
                 [](const HttpRequest&, HttpResponse&) { throw std::runtime_error("boom"); });
  s.start();
  EXPECT_EQ(s.client->get("/throw")->status, 500);
  EXPECT_EQ(s.client->get("/healthz")->status, 200);
}

TEST(HttpServer, ClosesIdleConnections) {
  Served s(HttpServerOptions{.idle_timeout = 200ms});
  add_echo(s.server);
  s.start();
  RawSocket socket(s.server.port());
  socket.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(socket.read_until("nobody").find("HTTP/1.1 200"), std::string::npos);
  EXPECT_TRUE(socket.closed_by_peer(5s));
}

TEST(HttpServer, ClosesConnectionsThatSendTooSlowly) {
  Served s(HttpServerOptions{.read_timeout = 200ms, .idle_timeout = 60s});
  add_echo(s.server);
  s.start();
  RawSocket socket(s.server.port());
  socket.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_TRUE(socket.closed_by_peer(5s));
  EXPECT_EQ(socket.read_until("HTTP", 0ms).find("HTTP/1.1 200"), std::string::npos);
}

// A header arriving a byte at a time used to be timed as an idle connection (60 s), not as a request
// being read (10 s): slow clients could hold connections six times longer.
TEST(HttpServer, AHeaderArrivingSlowlyHasTheReadTimeoutAndAnIdleConnectionTheIdleTimeout) {
  Served s(HttpServerOptions{.read_timeout = 300ms, .idle_timeout = 60s});
  add_echo(s.server);
  s.start();
  RawSocket idle(s.server.port());
  RawSocket slow(s.server.port());
  slow.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: a");
  EXPECT_TRUE(slow.closed_by_peer(5s));
  EXPECT_FALSE(idle.closed_by_peer(0ms));
  idle.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(idle.read_until("nobody").find("HTTP/1.1 200"), std::string::npos);
}

TEST(HttpServer, AtTheConnectionCapANewClientClosesTheLongestIdleConnection) {
  Served s(HttpServerOptions{.max_connections = 4});
  add_echo(s.server);
  s.start();
  std::vector<std::unique_ptr<RawSocket>> kept_alive;
  for (int i = 0; i < 4; ++i) {
    kept_alive.push_back(std::make_unique<RawSocket>(s.server.port()));
    kept_alive.back()->send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_NE(kept_alive.back()->read_until("nobody").find("HTTP/1.1 200"), std::string::npos);
  }
  EXPECT_EQ(s.client->get("/healthz")->status, 200);
  EXPECT_TRUE(kept_alive.front()->closed_by_peer());
  for (std::size_t i = 2; i < kept_alive.size(); ++i) EXPECT_FALSE(kept_alive[i]->closed_by_peer(0ms));
}

// At a 64-file limit, 100 idle connections used every descriptor: accept failed and /healthz waited.
TEST(HttpServer, TheConnectionCapLeavesAQuarterOfTheFileDescriptors) {
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = 64;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  const std::size_t one = connection_cap(1024, 1), two = connection_cap(1024, 2), few = connection_cap(10, 1);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_EQ(one, 48u);
  EXPECT_EQ(two, 24u);
  EXPECT_EQ(few, 10u);
}

TEST(HttpServer, AtTheConnectionCapWithEveryConnectionBusyANewOneIs503) {
  Served s(HttpServerOptions{.handler_threads = 2, .max_connections = 2});
  std::atomic<int> entered{0};
  std::promise<void> release;
  auto released = release.get_future().share();
  s.server.route("GET", "/slow", [&](const HttpRequest&, HttpResponse& response) {
    ++entered;
    released.wait();
    response.body = R"({"slow":true})";
  });
  s.start();
  RawSocket first(s.server.port()), second(s.server.port());
  first.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  second.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (entered < 2 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(1ms);
  ASSERT_EQ(entered.load(), 2);
  RawSocket third(s.server.port());
  EXPECT_TRUE(third.read_until("}").starts_with("HTTP/1.1 503"));
  release.set_value();
  EXPECT_NE(first.read_until("true").find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(second.read_until("true").find("HTTP/1.1 200"), std::string::npos);
}

TEST(HttpServer, StopFinishesRequestsInFlightAndRefusesNewOnes) {
  Served s(HttpServerOptions{.handler_threads = 2});
  std::latch entered(1);
  std::promise<void> release;
  auto released = release.get_future().share();
  s.server.route("GET", "/slow", [&](const HttpRequest&, HttpResponse& response) {
    entered.count_down();
    released.wait();
    response.body = R"({"done":true})";
  });
  s.start();
  const auto port = s.server.port();

  RawSocket idle(port);  // a keep-alive connection with no request: closed at once on stop
  ASSERT_TRUE(idle.connected());
  RawSocket in_flight(port);
  in_flight.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  entered.wait();

  auto stopped = std::async(std::launch::async, [&] { s.server.stop(); });
  EXPECT_TRUE(idle.closed_by_peer());
  EXPECT_EQ(stopped.wait_for(50ms), std::future_status::timeout);  // still waiting for /slow
  RawSocket late(port);
  EXPECT_FALSE(late.connected());

  release.set_value();
  const std::string answer = in_flight.read_until(R"({"done":true})");
  EXPECT_NE(answer.find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(answer.find("Connection: close"), std::string::npos);
  EXPECT_EQ(stopped.wait_for(5s), std::future_status::ready);
}

TEST(HttpServer, RunReturnsAfterStopFromAnotherThread) {
  HttpServer server;
  ASSERT_TRUE(server.listen("127.0.0.1:0").has_value());
  std::thread serving([&] { server.run(); });
  HttpClient client(client_options(server.port()));
  EXPECT_EQ(client.get("/healthz")->status, 200);
  server.stop();
  serving.join();
  EXPECT_GE(server.requests_served(), 1u);
}

TEST(HttpServer, ManyIoThreadsServeConcurrentClients) {
  Served s(HttpServerOptions{.io_threads = 3});
  add_echo(s.server);
  s.start();
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int c = 0; c < 6; ++c)
    clients.emplace_back([&, c] {
      HttpClient client(client_options(s.server.port()));
      for (int i = 0; i < 50; ++i) {
        const std::string body = fmt::format("{}-{}", c, i);
        auto answer = client.post("/echo", body, "text/plain");
        if (answer && answer->status == 200 && answer->body == body) ++ok;
      }
    });
  for (auto& client : clients) client.join();
  EXPECT_EQ(ok.load(), 300);
}

}  // namespace
}  // namespace maestro::net
