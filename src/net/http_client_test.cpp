// net::HttpClient against a real HTTP server on loopback (cpp-httplib, port 0): statuses, headers, bearer
// tokens, timeouts, which requests are retried and how often, and the backoff's bounds.
#include "net/http_client.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <rapidcheck/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace maestro::net {
namespace {

using namespace std::chrono_literals;

// A cpp-httplib server on 127.0.0.1:0, running on its own thread for the test's lifetime.
class LoopbackServer {
 public:
  LoopbackServer() { server_.set_tcp_nodelay(true); }
  ~LoopbackServer() { stop(); }

  httplib::Server& routes() { return server_; }

  void start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!server_.is_running() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    ASSERT_TRUE(server_.is_running());
  }
  void stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

HttpClientOptions fast_options(const std::string& url) {
  HttpClientOptions options;
  options.base_url = url;
  options.connect_timeout = 1000ms;
  options.total_timeout = 2000ms;
  options.retry.initial_backoff = 1ms;
  options.retry.max_backoff = 5ms;
  return options;
}

TEST(HttpClient, ReturnsStatusHeadersAndBody) {
  LoopbackServer server;
  server.routes().Get("/hello", [](const httplib::Request& request, httplib::Response& response) {
    response.set_header("X-Echo", request.get_param_value("name"));
    response.status = 201;
    response.set_content("{\"ok\":true}", "application/json");
  });
  server.start();

  HttpClient client(fast_options(server.url()));
  auto response = client.get("/hello?name=" + url_encode("a b&c"));
  ASSERT_TRUE(response.has_value()) << response.error().message;
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, "{\"ok\":true}");
  EXPECT_EQ(response->header("x-echo"), "a b&c");
  EXPECT_EQ(response->header("CONTENT-TYPE"), "application/json");
  EXPECT_FALSE(response->header("x-missing").has_value());
}

TEST(HttpClient, SendsBodyAndContentTypeForPostAndPatch) {
  LoopbackServer server;
  std::string seen;
  std::mutex mutex;
  auto echo = [&](const httplib::Request& request, httplib::Response& response) {
    std::lock_guard lock(mutex);
    seen = request.method + " " + request.get_header_value("Content-Type") + " " + request.body;
    response.set_content("done", "text/plain");
  };
  server.routes().Post("/thing", echo);
  server.routes().Patch("/thing", echo);
  server.start();

  HttpClient client(fast_options(server.url()));
  ASSERT_TRUE(client.post("/thing", "{\"a\":1}").has_value());
  EXPECT_EQ(seen, "POST application/json {\"a\":1}");
  ASSERT_TRUE(client.patch("/thing", "{\"b\":2}", "application/merge-patch+json").has_value());
  EXPECT_EQ(seen, "PATCH application/merge-patch+json {\"b\":2}");
}

TEST(HttpClient, ReusesTheConnectionBetweenRequests) {
  LoopbackServer server;
  server.routes().Get("/port", [](const httplib::Request& request, httplib::Response& response) {
    response.set_content(std::to_string(request.remote_port), "text/plain");
  });
  server.start();

  HttpClient client(fast_options(server.url()));
  auto first = client.get("/port");
  auto second = client.get("/port");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body, second->body) << "the second request came from a new connection";
}

TEST(HttpClient, AsksTheTokenProviderOnEveryRequest) {
  LoopbackServer server;
  server.routes().Get("/auth", [](const httplib::Request& request, httplib::Response& response) {
    response.set_content(request.get_header_value("Authorization"), "text/plain");
  });
  server.start();

  int rotation = 0;
  auto options = fast_options(server.url());
  options.bearer_token = [&]() -> Result<std::string> { return "token-" + std::to_string(++rotation); };
  HttpClient client(options);
  EXPECT_EQ(client.get("/auth")->body, "Bearer token-1");
  EXPECT_EQ(client.get("/auth")->body, "Bearer token-2");
}

TEST(HttpClient, FailsWithoutSendingWhenTheTokenCannotBeRead) {
  LoopbackServer server;
  std::atomic<int> requests{0};
  server.routes().Get("/auth", [&](const httplib::Request&, httplib::Response&) { ++requests; });
  server.start();

  auto options = fast_options(server.url());
  options.bearer_token = []() -> Result<std::string> { return fail("token file is missing"); };
  HttpClient client(options);
  auto response = client.get("/auth");
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().kind, HttpErrorKind::kCredentials);
  EXPECT_NE(response.error().message.find("token file is missing"), std::string::npos);
  EXPECT_EQ(requests.load(), 0);
}

TEST(HttpClient, TimesOutOnAServerThatDoesNotAnswer) {
  LoopbackServer server;
  std::mutex mutex;
  std::condition_variable released;
  bool release = false;
  std::atomic<int> requests{0};
  server.routes().Get("/hang", [&](const httplib::Request&, httplib::Response& response) {
    ++requests;
    std::unique_lock lock(mutex);
    released.wait_for(lock, 10s, [&] { return release; });
    response.set_content("late", "text/plain");
  });
  server.start();

  auto options = fast_options(server.url());
  options.total_timeout = 200ms;
  options.retry.max_attempts = 2;
  HttpClient client(options);
  auto response = client.get("/hang");
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().kind, HttpErrorKind::kTimeout);
  EXPECT_EQ(client.attempts(), 2u) << "a GET that timed out is retried";
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  released.notify_all();
}

TEST(HttpClient, RetriesIdempotentRequestsOnServerErrorsUpToTheLimit) {
  LoopbackServer server;
  std::atomic<int> requests{0};
  server.routes().Get("/flaky", [&](const httplib::Request&, httplib::Response& response) {
    response.status = ++requests <= 2 ? 503 : 200;
  });
  server.routes().Get("/down", [&](const httplib::Request&, httplib::Response& response) {
    ++requests;
    response.status = 500;
  });
  server.start();

  auto options = fast_options(server.url());
  options.retry.max_attempts = 4;
  HttpClient client(options);
  auto flaky = client.get("/flaky");
  ASSERT_TRUE(flaky.has_value());
  EXPECT_EQ(flaky->status, 200);
  EXPECT_EQ(requests.load(), 3);

  requests = 0;
  auto down = client.get("/down");
  ASSERT_TRUE(down.has_value()) << "a 5xx is a response, not an error";
  EXPECT_EQ(down->status, 500);
  EXPECT_EQ(requests.load(), 4);
}

TEST(HttpClient, NeverRetriesAClientErrorOrANonIdempotentRequestThatArrived) {
  LoopbackServer server;
  std::atomic<int> requests{0};
  server.routes().Get("/missing", [&](const httplib::Request&, httplib::Response& response) {
    ++requests;
    response.status = 404;
  });
  server.routes().Post("/busy", [&](const httplib::Request&, httplib::Response& response) {
    ++requests;
    response.status = 503;
  });
  server.start();

  HttpClient client(fast_options(server.url()));
  EXPECT_EQ(client.get("/missing")->status, 404);
  EXPECT_EQ(requests.load(), 1);
  requests = 0;
  EXPECT_EQ(client.post("/busy", "{}")->status, 503);
  EXPECT_EQ(requests.load(), 1);
}

TEST(HttpClient, RetriesEvenAPostWhenTheConnectionIsRefused) {
  // Bind a port, then close it, so that nothing listens there.
  int port = 0;
  {
    LoopbackServer server;
    server.start();
    port = std::stoi(server.url().substr(server.url().rfind(':') + 1));
  }
  auto options = fast_options("http://127.0.0.1:" + std::to_string(port));
  options.retry.max_attempts = 3;
  HttpClient client(options);
  auto response = client.post("/anything", "{}");
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().kind, HttpErrorKind::kConnect);
  EXPECT_EQ(client.attempts(), 3u);
}

// A client read whatever a server sent: a hostile or broken one could make it hold any amount.
TEST(HttpClient, AResponseOverTheLimitIsAnErrorThatSaysSo) {
  LoopbackServer server;
  server.routes().Get("/big", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(std::string(5000, 'b'), "text/plain");
  });
  server.start();
  auto options = fast_options(server.url());
  options.max_response_bytes = 4999;
  auto over = HttpClient(options).get("/big");
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().kind, HttpErrorKind::kTooLarge);
  EXPECT_NE(over.error().message.find("over the limit of 4999 bytes"), std::string::npos)
      << over.error().message;
  options.max_response_bytes = 5000;
  auto at_limit = HttpClient(options).get("/big");
  ASSERT_TRUE(at_limit.has_value());
  EXPECT_EQ(at_limit->body.size(), 5000u);
}

// Skipping TLS verification and sending a token in clear text off the machine are allowed, never
// silently; the warning names the host only (a URL may hold credentials).
TEST(HttpClient, WarnsWhenTlsIsNotVerifiedOrATokenGoesOverPlainHttp) {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16);
  const auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", sink));
  HttpClientOptions insecure;
  insecure.base_url = "https://user:secret@kube.example:6443";
  insecure.tls.insecure_skip_verify = true;
  HttpClient{insecure};
  HttpClientOptions clear_token;
  clear_token.base_url = "http://kube.example:8080";
  clear_token.bearer_token = [] { return Result<std::string>("token"); };
  HttpClient{clear_token};
  HttpClientOptions fine;
  fine.base_url = "https://kube.example";
  fine.bearer_token = [] { return Result<std::string>("token"); };
  HttpClient{fine};
  for (const char* loopback : {"http://127.0.0.1:8001", "http://localhost:8001", "http://[::1]:8001"}) {
    fine.base_url = loopback;
    HttpClient{fine};
  }
  spdlog::set_default_logger(previous);
  const auto lines = sink->last_formatted();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("TLS certificates of kube.example are not verified"), std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find("bearer token is sent to kube.example over plain http"), std::string::npos)
      << lines[1];
  for (const auto& line : lines) EXPECT_EQ(line.find("secret"), std::string::npos) << line;
}

TEST(HttpClient, RejectsAMalformedUrl) {
  HttpClient client(fast_options("nonsense://"));
  auto response = client.get("/x");
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().kind, HttpErrorKind::kInvalid);
  EXPECT_EQ(client.attempts(), 1u);
}

RC_GTEST_PROP(Backoff, StaysWithinHalfAndAllOfTheCappedExponentialDelay, (std::uint64_t seed)) {
  RetryPolicy policy;
  policy.initial_backoff = std::chrono::milliseconds(*rc::gen::inRange(1, 1000));
  policy.max_backoff = std::chrono::milliseconds(*rc::gen::inRange(1, 60000));
  policy.multiplier = *rc::gen::inRange(100, 400) / 100.0;
  const int retry = *rc::gen::inRange(1, 80);
  std::mt19937_64 random(seed);
  const double cap = std::min(static_cast<double>(policy.max_backoff.count()),
                              policy.initial_backoff.count() * std::pow(policy.multiplier, retry - 1));
  const auto delay = backoff_delay(policy, retry, random);
  RC_ASSERT(delay.count() >= static_cast<std::int64_t>(std::floor(cap / 2)));
  RC_ASSERT(delay.count() <= static_cast<std::int64_t>(std::ceil(cap)));
  RC_ASSERT(delay <= policy.max_backoff);
}

TEST(Backoff, IsJittered) {
  RetryPolicy policy;
  policy.initial_backoff = 1000ms;
  std::mt19937_64 random(7);
  const auto first = backoff_delay(policy, 1, random);
  bool differs = false;
  for (int i = 0; i < 20 && !differs; ++i) differs = backoff_delay(policy, 1, random) != first;
  EXPECT_TRUE(differs);
}

TEST(HttpClient, KnowsWhichMethodsAreIdempotent) {
  EXPECT_TRUE(is_idempotent("GET"));
  EXPECT_TRUE(is_idempotent("PUT"));
  EXPECT_FALSE(is_idempotent("POST"));
  EXPECT_FALSE(is_idempotent("PATCH"));
}

}  // namespace
}  // namespace maestro::net
