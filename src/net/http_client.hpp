// The HTTP client every part uses to talk to other services (Prometheus, the model and suggestion servers,
// the Kubernetes API): libcurl with reused handles (keep-alive), connect and total timeouts, retries with
// jittered exponential backoff, TLS (CA, client certificate and key, as files or inline PEM) and a bearer
// token read from a provider on every request, so that a rotating token file is picked up. Never throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"

namespace maestro::net {

// Why a request produced no response; a response with any status (even 500) is not an HttpError.
enum class HttpErrorKind {
  kConnect,      // could not resolve or connect, or the connection broke before a response
  kTimeout,      // the connect or total timeout passed
  kTls,          // handshake or certificate verification failed
  kCredentials,  // the bearer token provider failed
  kInvalid,      // the request itself is malformed (bad URL, bad option)
  kTooLarge,     // the response body is over HttpClientOptions::max_response_bytes
  kOther,
};

std::string_view http_error_kind_name(HttpErrorKind kind);

// An Error (so that it converts to maestro::Result<T>'s error) that also says what kind of failure it was.
struct HttpError : Error {
  HttpErrorKind kind = HttpErrorKind::kOther;
};

struct Response {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in arrival order
  std::string body;

  // The first header of that name (case-insensitive), if any.
  std::optional<std::string_view> header(std::string_view name) const;
};

using HttpResult = std::expected<Response, HttpError>;

struct TlsOptions {
  std::string ca_file;           // verify the server against these CAs (PEM file); empty: the system's
  std::string ca_pem;            // ... or against this inline PEM (kubeconfig certificate-authority-data)
  std::string client_cert_file;  // client certificate (PEM) and its key, as files ...
  std::string client_key_file;
  std::string client_cert_pem;  // ... or inline
  std::string client_key_pem;
  bool insecure_skip_verify = false;  // off unless asked for; never verify nothing by accident
};

struct RetryPolicy {
  int max_attempts = 3;  // including the first; 1 disables retries
  std::chrono::milliseconds initial_backoff{50};
  std::chrono::milliseconds max_backoff{2000};
  double multiplier = 2.0;
  bool retry_server_errors = true;  // retry idempotent requests answered 500, 502, 503 or 504
};

// Returns the bearer token for the next request; called on every request.
using TokenProvider = std::function<Result<std::string>()>;

struct HttpClientOptions {
  std::string base_url;  // "http://127.0.0.1:8080"; a request's path is appended to it
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds total_timeout{10000};  // per attempt
  RetryPolicy retry;
  TlsOptions tls;
  TokenProvider bearer_token;  // none: no Authorization header
  std::string user_agent = "maestro";
  // A longer response body is an HttpError (kTooLarge), read no further: no server can make us hold more.
  std::size_t max_response_bytes = 64 << 20;
};

struct Request {
  std::string method = "GET";
  std::string path;  // appended to the base URL, e.g. "/api/v1/namespaces/default/events"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::optional<std::chrono::milliseconds> total_timeout;  // overrides the client's
  // Streaming (a Kubernetes watch): a 2xx response's body is handed over piece by piece as it arrives, not
  // kept in Response::body and not counted against max_response_bytes; returning false ends the transfer
  // (the request then fails with kOther). Other statuses' bodies are kept as usual. `keep_going` is also
  // asked about once a second while nothing arrives: false ends the transfer the same way.
  std::function<bool(std::string_view)> on_body;
  std::function<bool()> keep_going;
};

// The delay before retry number `retry` (1 for the first retry): exponential, capped at max_backoff, with
// "equal jitter" — uniformly in [delay/2, delay] — so that many clients do not retry in lockstep.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, std::mt19937_64& random);

// GET, HEAD, PUT, DELETE and OPTIONS may be sent twice with the same effect; POST and PATCH may not.
bool is_idempotent(std::string_view method);

// Percent-encodes a query parameter value.
std::string url_encode(std::string_view value);

// Thread-safe: concurrent requests each take a pooled curl handle; sequential ones reuse its connection.
class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  const HttpClientOptions& options() const { return options_; }

  HttpResult send(const Request& request);
  HttpResult get(std::string path);
  HttpResult post(std::string path, std::string body, std::string content_type = "application/json");
  HttpResult patch(std::string path, std::string body, std::string content_type);

  // Requests attempted on the wire so far, retries included (for tests and metrics).
  std::uint64_t attempts() const;

 private:
  struct Pool;
  // One try; sets never_sent when the request surely did not reach the server.
  HttpResult attempt(const Request& request, bool& never_sent);

  HttpClientOptions options_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace maestro::net
