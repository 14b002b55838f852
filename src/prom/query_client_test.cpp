// Tests of the Prometheus query API client: answer parsing, the "no data" rules, and the request it sends.
#include "prom/query_client.hpp"

#include <cmath>

#include <gtest/gtest.h>

#include "net/http_server.hpp"

namespace maestro::prom {
namespace {

TEST(ParseQueryResponse, ReadsVectorSamplesWithLabels) {
  auto samples = parse_query_response(200, R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{"__name__":"up","job":"app"},"value":[1700000000.5,"1"]},
      {"metric":{"job":"db"},"value":[1700000000.5,"+Inf"]}]}})");
  ASSERT_TRUE(samples.has_value()) << samples.error().message;
  ASSERT_EQ(samples->size(), 2u);
  EXPECT_EQ((*samples)[0].labels.at("job"), "app");
  EXPECT_DOUBLE_EQ((*samples)[0].timestamp, 1700000000.5);
  EXPECT_DOUBLE_EQ((*samples)[0].value, 1);
  EXPECT_TRUE(std::isinf((*samples)[1].value));
}

TEST(ParseQueryResponse, ReadsScalarsIncludingNaN) {
  auto scalar = parse_query_response(
      200, R"({"status":"success","data":{"resultType":"scalar","result":[17.0,"2.5"]}})");
  ASSERT_TRUE(scalar.has_value());
  ASSERT_EQ(scalar->size(), 1u);
  EXPECT_DOUBLE_EQ(scalar->front().value, 2.5);
  auto nan =
      parse_query_response(200, R"({"status":"success","data":{"resultType":"scalar","result":[17,"NaN"]}})");
  ASSERT_TRUE(nan.has_value());
  EXPECT_TRUE(std::isnan(nan->front().value));
}

TEST(ParseQueryResponse, ClassifiesFailures) {
  auto rejected = parse_query_response(
      400, R"({"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected"})");
  ASSERT_FALSE(rejected.has_value());
  EXPECT_EQ(rejected.error().kind, QueryErrorKind::kRejected);
  EXPECT_NE(rejected.error().message.find("parse error"), std::string::npos);

  auto timeout =
      parse_query_response(503, R"({"status":"error","errorType":"timeout","error":"query timed out"})");
  ASSERT_FALSE(timeout.has_value());
  EXPECT_EQ(timeout.error().kind, QueryErrorKind::kUnreachable);

  EXPECT_EQ(parse_query_response(502, "<html>bad gateway</html>").error().kind, QueryErrorKind::kUnreachable);
  EXPECT_EQ(parse_query_response(200, "not json").error().kind, QueryErrorKind::kMalformed);
  EXPECT_EQ(parse_query_response(200, R"({"status":"success","data":{"resultType":"matrix","result":[]}})")
                .error()
                .kind,
            QueryErrorKind::kMalformed);
  EXPECT_EQ(parse_query_response(200, R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{},"value":[1,"twelve"]}]}})")
                .error()
                .kind,
            QueryErrorKind::kMalformed);
}

// Fields of the wrong type are a malformed answer, not an exception ({"status": 5} used to end the process
// through nlohmann's value(); found by fuzz/prom_response).
TEST(ParseQueryResponse, RefusesFieldsOfTheWrongTypeWithoutThrowing) {
  EXPECT_EQ(parse_query_response(200, R"({"status":5})").error().kind, QueryErrorKind::kMalformed);
  EXPECT_EQ(
      parse_query_response(200, R"({"status":"success","data":{"resultType":5,"result":[]}})").error().kind,
      QueryErrorKind::kMalformed);
  const auto failed = parse_query_response(400, R"({"status":"error","errorType":[1],"error":{"a":2}})");
  EXPECT_EQ(failed.error().kind, QueryErrorKind::kRejected);
  EXPECT_NE(failed.error().message.find("(no message)"), std::string::npos);
}

TEST(SingleValue, EmptyAndNaNAreNoDataNeverZero) {
  EXPECT_EQ(single_value({}).error().kind, QueryErrorKind::kNoData);
  EXPECT_EQ(single_value({Sample{{}, 1000, std::nan("")}}).error().kind, QueryErrorKind::kNoData);
  EXPECT_EQ(single_value({Sample{{}, 1000, 1}, Sample{{}, 1000, 2}}).error().kind,
            QueryErrorKind::kAmbiguous);
  EXPECT_DOUBLE_EQ(single_value({Sample{{}, 950, 0}}).value(), 0);  // a measured zero is data
}

// Evaluated at Prometheus's own clock: no time= from the local one.
TEST(PrometheusClient, SendsTheQueryAndReadsTheAnswer) {
  net::HttpServer fake;
  std::string seen_query;
  std::optional<std::string> seen_time;
  fake.route("GET", "/api/v1/query", [&](const net::HttpRequest& request, net::HttpResponse& response) {
    seen_query = request.query_param("query").value_or("");
    seen_time = request.query_param("time");
    response.body = R"({"status":"success","data":{"resultType":"vector","result":[
        {"metric":{},"value":[1700000000,"42.5"]}]}})";
  });
  auto port = fake.listen("127.0.0.1:0");
  ASSERT_TRUE(port.has_value());
  fake.start();
  net::HttpClientOptions options;
  options.base_url = fmt::format("http://127.0.0.1:{}", *port);
  net::HttpClient http(options);
  PrometheusClient client(http);
  const std::string promql = R"(sum(rate(http_requests_total{namespace="a b",pod=~"x-.+"}[1m])))";
  auto value = client.value(promql);
  ASSERT_TRUE(value.has_value()) << value.error().message;
  EXPECT_DOUBLE_EQ(*value, 42.5);
  EXPECT_EQ(seen_query, promql);
  EXPECT_FALSE(seen_time.has_value());
}

TEST(PrometheusClient, UnreachablePrometheusIsAnErrorNotZero) {
  net::HttpClientOptions options;
  options.base_url = "http://127.0.0.1:1";  // nothing listens on port 1
  options.retry.max_attempts = 1;
  net::HttpClient http(options);
  PrometheusClient client(http);
  auto value = client.value("vector(1)");
  ASSERT_FALSE(value.has_value());
  EXPECT_EQ(value.error().kind, QueryErrorKind::kUnreachable);
}

}  // namespace
}  // namespace maestro::prom
