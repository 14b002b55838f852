// Tests of net::Router without a socket: which handler a request reaches, the answers that need none
// (404, 405, the built-in endpoints), a throwing handler, and what each answer is counted under.
#include "net/router.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace maestro::net {
namespace {

HttpRequest request(std::string_view method, std::string_view path) {
  HttpRequest made;
  made.method = method;
  made.target = path;
  made.path = path;
  return made;
}

// What `router` answers `method path`, calling the handler it chose.
HttpResponse answer(const Router& router, std::string_view method, std::string_view path) {
  HttpResponse response;
  const auto req = request(method, path);
  const auto dispatch = router.dispatch(req, response);
  if (dispatch.handler != nullptr) Router::call(*dispatch.handler, req, response);
  return response;
}

std::string scrape(const Router& router) {
  return answer(router, "GET", "/metrics").body;
}

std::optional<std::string_view> header(const HttpResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers)
    if (key == name) return value;
  return std::nullopt;
}

struct RouterTest : ::testing::Test {
  Router router{{0.001, 0.01, 0.1}};
  int calls = 0;

  void SetUp() override {
    router.route("GET", "/items", [this](const HttpRequest&, HttpResponse& response) {
      ++calls;
      response.body = R"({"items":[]})";
    });
    router.route("PUT", "/items", [](const HttpRequest&, HttpResponse& response) { response.status = 204; });
  }
};

TEST_F(RouterTest, ARequestReachesTheRouteOfItsPathAndMethod) {
  const auto got = answer(router, "GET", "/items");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, R"({"items":[]})");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(answer(router, "PUT", "/items").status, 204);
  EXPECT_EQ(calls, 1);
}

TEST_F(RouterTest, AKnownPathWithAnotherMethodIs405NamingTheAllowedOnes) {
  HttpResponse response;
  const auto dispatch = router.dispatch(request("DELETE", "/items"), response);
  EXPECT_EQ(dispatch.handler, nullptr);
  EXPECT_NE(dispatch.metrics, nullptr) << "a refused request still counts under its route";
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(header(response, "Allow").value_or(""), "GET, PUT");
  EXPECT_EQ(calls, 0);
}

TEST_F(RouterTest, AnUnknownPathIs404AndItsBytesCannotBreakTheAnswer) {
  const auto plain = answer(router, "GET", "/nothing");
  EXPECT_EQ(plain.status, 404);
  EXPECT_EQ(nlohmann::json::parse(plain.body).at("error"), "no such endpoint: /nothing");

  // The audit's crash: a path that is not UTF-8 must still give a 404 whose body is JSON.
  const auto hostile = answer(router, "GET", "/\xff\xfe");
  EXPECT_EQ(hostile.status, 404);
  const auto body = nlohmann::json::parse(hostile.body);
  EXPECT_EQ(body.at("error"), "no such endpoint: /\xEF\xBF\xBD\xEF\xBF\xBD")
      << "each bad byte becomes U+FFFD";
}

TEST_F(RouterTest, TheFallbackTakesEveryPathNoRouteMatches) {
  router.fallback(
      [](const HttpRequest& req, HttpResponse& response) { response.body = std::string(req.path); });
  EXPECT_EQ(answer(router, "POST", "/anything/else").body, "/anything/else");
  EXPECT_EQ(answer(router, "DELETE", "/items").status, 405) << "a known path is not the fallback's";
  EXPECT_EQ(answer(router, "GET", "/healthz").status, 200) << "nor a built-in endpoint";
}

TEST_F(RouterTest, TheBuiltInEndpointsAnswerThemselvesAndAreNotCounted) {
  HttpResponse response;
  const auto dispatch = router.dispatch(request("GET", "/healthz"), response);
  EXPECT_EQ(dispatch.handler, nullptr);
  EXPECT_EQ(dispatch.metrics, nullptr) << "probes and scrapes are not application traffic";
  EXPECT_EQ(response.status, 200);

  bool ready = true;
  router.set_readiness([&ready] { return ready; });
  EXPECT_EQ(answer(router, "GET", "/readyz").status, 200);
  ready = false;
  EXPECT_EQ(answer(router, "GET", "/readyz").status, 503);
  EXPECT_EQ(answer(router, "HEAD", "/healthz").status, 200);

  const auto posted = answer(router, "POST", "/metrics");
  EXPECT_EQ(posted.status, 405);
  EXPECT_EQ(header(posted, "Allow").value_or(""), "GET, HEAD");

  HttpResponse metrics;
  (void)router.dispatch(request("GET", "/metrics"), metrics);
  EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(metrics.body.find("maestro_build_info{"), std::string::npos);
}

TEST_F(RouterTest, AHandlerThatThrowsIsAnswered500WithoutItsMessage) {
  router.route("POST", "/boom",
               [](const HttpRequest&, HttpResponse&) { throw std::runtime_error("secret detail"); });
  const auto got = answer(router, "POST", "/boom");
  EXPECT_EQ(got.status, 500);
  EXPECT_EQ(got.body.find("secret detail"), std::string::npos);
}

TEST_F(RouterTest, AnswersAreCountedUnderTheirRouteAndInventedMethodsUnderOther) {
  HttpResponse response;
  Router::record(router.dispatch(request("GET", "/items"), response).metrics, "GET", 200, 0.002);
  Router::record(router.dispatch(request("BREW", "/items"), response).metrics, "BREW", 405, 0.0005);
  Router::record(router.dispatch(request("GET", "/nothing"), response).metrics, "GET", 404, 0.0005);
  // A request whose header was too large, its request line unread, and one whose body was: by its route.
  Router::record(router.metrics_for_unreadable(std::nullopt), "other", 431, 0.0001);
  const auto unread_body = request("PUT", "/items");
  Router::record(router.metrics_for_unreadable(unread_body), "PUT", 413, 0.0001);
  Router::record(router.metrics_for_unreadable(request("GET", "/healthz")), "GET", 413, 0.0001);

  const auto text = scrape(router);
  EXPECT_NE(text.find(R"(http_requests_total{code="200",handler="/items",method="GET"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(http_requests_total{code="405",handler="/items",method="other"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(http_requests_total{code="404",handler="unmatched",method="GET"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(http_requests_total{code="431",handler="unmatched",method="other"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(http_requests_total{code="413",handler="/items",method="PUT"} 1)"),
            std::string::npos);
  EXPECT_EQ(text.find("BREW"), std::string::npos) << "no client can name a series";
  EXPECT_EQ(text.find("/healthz"), std::string::npos);
  EXPECT_NE(text.find(R"(http_request_duration_seconds_bucket{handler="/items",method="GET",le="0.01"} 1)"),
            std::string::npos);
}

TEST(MethodLabel, IsAStandardMethodOrOther) {
  EXPECT_EQ(method_label("PATCH"), "PATCH");
  EXPECT_EQ(method_label("patch"), "other");
  EXPECT_EQ(method_label(std::string_view("\xff", 1)), "other");
}

}  // namespace
}  // namespace maestro::net
