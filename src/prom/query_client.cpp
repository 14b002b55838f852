#include "prom/query_client.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "base/json_fields.hpp"

namespace maestro::prom {

namespace {

std::unexpected<QueryError> query_error(QueryErrorKind kind, std::string message) {
  QueryError error;
  error.kind = kind;
  error.message = std::move(message);
  return std::unexpected(std::move(error));
}

// Prometheus sends sample values as strings: "1.5", "NaN", "+Inf", "-Inf".
std::optional<double> parse_sample_value(const std::string& text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "+Inf" || text == "Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// [ <unix time>, "<value>" ]
std::optional<Sample> parse_point(const nlohmann::json& point) {
  if (!point.is_array() || point.size() != 2 || !point[0].is_number() || !point[1].is_string())
    return std::nullopt;
  auto value = parse_sample_value(point[1].get<std::string>());
  if (!value) return std::nullopt;
  Sample sample;
  sample.timestamp = point[0].get<double>();
  sample.value = *value;
  return sample;
}

}  // namespace

std::string_view query_error_kind_name(QueryErrorKind kind) {
  switch (kind) {
    case QueryErrorKind::kUnreachable:
      return "unreachable";
    case QueryErrorKind::kRejected:
      return "rejected";
    case QueryErrorKind::kMalformed:
      return "malformed";
    case QueryErrorKind::kNoData:
      return "no_data";
    case QueryErrorKind::kAmbiguous:
      return "ambiguous";
  }
  return "unknown";
}

QueryResult<std::vector<Sample>> parse_query_response(long status, std::string_view body) {
  const auto document = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (base::json_string(document, "status") == "error") {
    const std::string what = fmt::format("Prometheus answered {} {}: {}", status,
                                         base::json_string(document, "errorType", "error"),
                                         base::json_string(document, "error", "(no message)"));
    // 400 and 422 say the query is wrong; 503 (timeout, overload) and the rest say Prometheus is in trouble.
    return query_error(
        status == 400 || status == 422 ? QueryErrorKind::kRejected : QueryErrorKind::kUnreachable, what);
  }
  if (status >= 500)
    return query_error(QueryErrorKind::kUnreachable, fmt::format("Prometheus answered {}", status));
  if (base::json_string(document, "status") != "success" || !document.contains("data") ||
      !document["data"].is_object())
    return query_error(
        QueryErrorKind::kMalformed,
        fmt::format("Prometheus answered {} with a body that is not the query API's JSON", status));

  const auto& data = document["data"];
  const std::string type = base::json_string(data, "resultType");
  const auto result = data.find("result");
  if (result == data.end()) return query_error(QueryErrorKind::kMalformed, "query answer has no result");

  std::vector<Sample> samples;
  if (type == "scalar") {
    auto sample = parse_point(*result);
    if (!sample) return query_error(QueryErrorKind::kMalformed, "scalar result is not [time, \"value\"]");
    samples.push_back(std::move(*sample));
    return samples;
  }
  if (type != "vector")
    return query_error(
        QueryErrorKind::kMalformed,
        fmt::format("query gave a {} result; only instant vectors and scalars are numbers", type));
  if (!result->is_array()) return query_error(QueryErrorKind::kMalformed, "vector result is not an array");
  for (const auto& series : *result) {
    if (!series.is_object() || !series.contains("value"))
      return query_error(QueryErrorKind::kMalformed, "vector element has no value");
    auto sample = parse_point(series["value"]);
    if (!sample) return query_error(QueryErrorKind::kMalformed, "vector value is not [time, \"value\"]");
    if (const auto metric = series.find("metric"); metric != series.end() && metric->is_object())
      for (const auto& [name, label] : metric->items())
        if (label.is_string()) sample->labels.emplace(name, label.get<std::string>());
    samples.push_back(std::move(*sample));
  }
  return samples;
}

QueryResult<double> single_value(const std::vector<Sample>& samples) {
  if (samples.empty()) return query_error(QueryErrorKind::kNoData, "no data: the query matched no series");
  if (samples.size() > 1)
    return query_error(QueryErrorKind::kAmbiguous,
                       fmt::format("the query gave {} series where one number was expected", samples.size()));
  const Sample& sample = samples.front();
  if (std::isnan(sample.value)) return query_error(QueryErrorKind::kNoData, "no data: the query gave NaN");
  return sample.value;
}

PrometheusClient::PrometheusClient(net::HttpClient& http, PrometheusClientOptions options)
    : http_(http), options_(options) {}

QueryResult<double> PrometheusClient::value(std::string_view promql) {
  auto found = samples(promql);
  if (!found) return std::unexpected(found.error());
  return single_value(*found);
}

QueryResult<std::vector<Sample>> PrometheusClient::samples(std::string_view promql) {
  // GET, so that the HTTP client may retry it: a query changes nothing.
  net::Request request;
  // No time=: Prometheus evaluates at its own clock, the one its samples' timestamps are in.
  request.path = fmt::format("/api/v1/query?query={}", net::url_encode(promql));
  if (options_.authorization) {
    auto authorization = options_.authorization();
    if (!authorization)
      return query_error(QueryErrorKind::kUnreachable,
                         fmt::format("Prometheus credentials: {}", authorization.error().message));
    request.headers.emplace_back("Authorization", std::move(*authorization));
  }
  auto response = http_.send(request);
  if (!response)
    return query_error(QueryErrorKind::kUnreachable,
                       fmt::format("Prometheus unreachable: {}", response.error().message));
  return parse_query_response(response->status, response->body);
}

}  // namespace maestro::prom
