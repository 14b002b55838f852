// Reading numbers from Prometheus: the HTTP API's instant queries (/api/v1/query), evaluated at Prometheus's
// own clock, their vector and scalar results, and the rule that an empty result or a NaN is "no data" — never
// zero, so that no decision is ever made from a number that was not measured. (An instant query's sample is
// stamped with the evaluation time, so its age says nothing: how fresh the data is, the StateBuilder asks
// Prometheus with timestamp(), see state_builder.hpp.)
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "net/http_client.hpp"

namespace maestro::prom {

enum class QueryErrorKind {
  kUnreachable,  // no answer from Prometheus (connection, timeout, TLS, 5xx)
  kRejected,     // Prometheus refused the query (bad PromQL: 400, 422)
  kMalformed,    // the answer is not the API's JSON
  kNoData,       // the query ran but measured nothing: empty result or NaN
  kAmbiguous,    // several series where the caller wanted one number
};

std::string_view query_error_kind_name(QueryErrorKind kind);

struct QueryError : Error {
  QueryErrorKind kind = QueryErrorKind::kMalformed;
};

template <typename T>
using QueryResult = std::expected<T, QueryError>;

struct Sample {
  std::map<std::string, std::string> labels;
  double timestamp = 0;  // seconds since the epoch
  double value = 0;      // may be NaN or ±Inf, as Prometheus sent it
};

// The samples of an instant query's answer (HTTP status and body): one per series for a vector, one without
// labels for a scalar. Matrix and string results are refused (kMalformed).
QueryResult<std::vector<Sample>> parse_query_response(long status, std::string_view body);

// The one number of an instant query's samples, or no data. Several samples are kAmbiguous: templates
// aggregate to one series.
QueryResult<double> single_value(const std::vector<Sample>& samples);

// Where the StateBuilder gets its numbers; tests substitute their own. Called from several threads at once.
class MetricsSource {
 public:
  virtual ~MetricsSource() = default;
  // The value of `promql`, an expression that evaluates to one number now.
  virtual QueryResult<double> value(std::string_view promql) = 0;
  // Every sample of `promql` evaluated now, one per series (empty: none matched).
  virtual QueryResult<std::vector<Sample>> samples(std::string_view promql) = 0;
};

struct PrometheusClientOptions {
  // The Authorization header of every query (basic auth read from a file: credentials.hpp); none: no header.
  std::function<Result<std::string>()> authorization;
};

class PrometheusClient final : public MetricsSource {
 public:
  // `http` is configured with Prometheus's base URL (and its TLS, token and timeouts).
  PrometheusClient(net::HttpClient& http, PrometheusClientOptions options = {});

  QueryResult<std::vector<Sample>> samples(std::string_view promql) override;
  QueryResult<double> value(std::string_view promql) override;

 private:
  net::HttpClient& http_;
  PrometheusClientOptions options_;
};

}  // namespace maestro::prom
