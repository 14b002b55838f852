#include "net/http_client.hpp"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <mutex>
#include <thread>

namespace maestro::net {

namespace {

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

// Where a response body goes, up to its limit.
struct BodySink {
  std::string& body;
  std::size_t limit;
  bool over_limit = false;
  CURL* curl = nullptr;
  const std::function<bool(std::string_view)>* stream = nullptr;  // a streaming request's consumer
  std::optional<bool> streaming;                                  // decided at the first piece
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  if (sink->stream && !sink->streaming) {
    long status = 0;
    curl_easy_getinfo(sink->curl, CURLINFO_RESPONSE_CODE, &status);
    sink->streaming = status >= 200 && status < 300;
  }
  if (sink->streaming.value_or(false))
    return (*sink->stream)(std::string_view(data, size * count)) ? size * count : 0;
  if (sink->body.size() + size * count > sink->limit) {
    sink->over_limit = true;
    return 0;  // curl stops with CURLE_WRITE_ERROR
  }
  sink->body.append(data, size * count);
  return size * count;
}

// Non-zero aborts the transfer (CURLE_ABORTED_BY_CALLBACK).
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return (*static_cast<const std::function<bool()>*>(user))() ? 0 : 1;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
  const std::string_view line(data, size * count);
  // A new status line (after a 100 Continue or a redirect) starts a new header block.
  if (line.starts_with("HTTP/")) {
    headers->clear();
  } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    headers->emplace_back(lower(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  }
  return size * count;
}

HttpErrorKind kind_of(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      return HttpErrorKind::kConnect;
    case CURLE_OPERATION_TIMEDOUT:
      return HttpErrorKind::kTimeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
      return HttpErrorKind::kTls;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return HttpErrorKind::kInvalid;
    default:
      return HttpErrorKind::kOther;
  }
}

bool is_retryable_status(long status) {
  return status == 500 || status == 502 || status == 503 || status == 504;
}

struct CurlSlist {
  curl_slist* list = nullptr;
  ~CurlSlist() { curl_slist_free_all(list); }
  void add(const std::string& line) { list = curl_slist_append(list, line.c_str()); }
};

// The host of `url` (for log lines), without credentials or path; "?" if curl cannot parse it.
std::string host_of(const std::string& url) {
  std::string host = "?";
  CURLU* parsed = curl_url();
  char* part = nullptr;
  if (curl_url_set(parsed, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(parsed, CURLUPART_HOST, &part, 0) == CURLUE_OK) {
    host = part;
    curl_free(part);
  }
  curl_url_cleanup(parsed);
  return host;
}

void set_blob(CURL* curl, CURLoption option, const std::string& pem) {
  curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
  curl_easy_setopt(curl, option, &blob);
}

}  // namespace

std::string_view http_error_kind_name(HttpErrorKind kind) {
  switch (kind) {
    case HttpErrorKind::kConnect:
      return "connect";
    case HttpErrorKind::kTimeout:
      return "timeout";
    case HttpErrorKind::kTls:
      return "tls";
    case HttpErrorKind::kCredentials:
      return "credentials";
    case HttpErrorKind::kInvalid:
      return "invalid";
    case HttpErrorKind::kTooLarge:
      return "too_large";
    case HttpErrorKind::kOther:
      return "other";
  }
  return "other";
}

std::optional<std::string_view> Response::header(std::string_view name) const {
  const std::string wanted = lower(name);
  for (const auto& [key, value] : headers)
    if (key == wanted) return value;
  return std::nullopt;
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, std::mt19937_64& random) {
  const double uncapped = static_cast<double>(policy.initial_backoff.count()) *
                          std::pow(policy.multiplier, std::max(0, retry - 1));
  const double capped = std::min(uncapped, static_cast<double>(policy.max_backoff.count()));
  std::uniform_real_distribution<double> jitter(capped / 2, capped);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(jitter(random))));
}

bool is_idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS";
}

std::string url_encode(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  constexpr char kHex[] = "0123456789ABCDEF";
  for (const unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

// Idle curl handles; each keeps its connection open between requests.
struct HttpClient::Pool {
  std::mutex mutex;
  std::vector<CURL*> idle;
  std::atomic<std::uint64_t> attempts{0};
  std::mutex random_mutex;
  std::mt19937_64 random{std::random_device{}()};

  CURL* acquire() {
    {
      std::lock_guard lock(mutex);
      if (!idle.empty()) {
        CURL* curl = idle.back();
        idle.pop_back();
        return curl;
      }
    }
    return curl_easy_init();
  }
  void release(CURL* curl) {
    std::lock_guard lock(mutex);
    idle.push_back(curl);
  }
  ~Pool() {
    for (CURL* curl : idle) curl_easy_cleanup(curl);
  }
};

HttpClient::HttpClient(HttpClientOptions options)
    : options_(std::move(options)), pool_(std::make_unique<Pool>()) {
  init_curl_once();
  // Both are allowed (a test cluster, a kubeconfig that asks for it), never silently. The URL is not
  // logged: it may hold credentials.
  const std::string host = host_of(options_.base_url);
  if (options_.tls.insecure_skip_verify)
    spdlog::warn("TLS certificates of {} are not verified (insecure-skip-tls-verify)", host);
  // Over loopback (kubectl proxy, a local test double) the token never leaves the machine.
  const bool loopback = host == "localhost" || host.starts_with("127.") || host == "[::1]";
  if (options_.bearer_token && options_.base_url.starts_with("http://") && !loopback)
    spdlog::warn("a bearer token is sent to {} over plain http, unencrypted", host);
}

HttpClient::~HttpClient() = default;

std::uint64_t HttpClient::attempts() const {
  return pool_->attempts.load();
}

HttpResult HttpClient::get(std::string path) {
  Request request;
  request.path = std::move(path);
  return send(request);
}

HttpResult HttpClient::post(std::string path, std::string body, std::string content_type) {
  Request request;
  request.method = "POST";
  request.path = std::move(path);
  request.headers.emplace_back("Content-Type", std::move(content_type));
  request.body = std::move(body);
  return send(request);
}

HttpResult HttpClient::patch(std::string path, std::string body, std::string content_type) {
  Request request;
  request.method = "PATCH";
  request.path = std::move(path);
  request.headers.emplace_back("Content-Type", std::move(content_type));
  request.body = std::move(body);
  return send(request);
}

HttpResult HttpClient::send(const Request& request) {
  const bool idempotent = is_idempotent(request.method);
  const int max_attempts = std::max(1, options_.retry.max_attempts);
  for (int attempt_number = 1;; ++attempt_number) {
    bool never_sent = false;
    HttpResult result = attempt(request, never_sent);
    bool retry = false;
    if (result) {
      retry = idempotent && options_.retry.retry_server_errors && is_retryable_status(result->status);
    } else if (result.error().kind == HttpErrorKind::kConnect ||
               result.error().kind == HttpErrorKind::kTimeout) {
      // A request that is not idempotent may have been acted on before the connection broke: resend it only
      // if it never left.
      retry = idempotent || never_sent;
    }
    // A streaming request's consumer may have seen part of the answer: never resent.
    if (!retry || request.on_body || attempt_number >= max_attempts) return result;
    std::chrono::milliseconds delay;
    {
      std::lock_guard lock(pool_->random_mutex);
      delay = backoff_delay(options_.retry, attempt_number, pool_->random);
    }
    std::this_thread::sleep_for(delay);
  }
}

HttpResult HttpClient::attempt(const Request& request, bool& never_sent) {
  CURL* curl = pool_->acquire();
  if (curl == nullptr) return std::unexpected(HttpError{{"curl_easy_init failed"}, HttpErrorKind::kOther});
  // Options are per request, the connection cache stays with the handle.
  curl_easy_reset(curl);

  Response response;
  BodySink body{
      response.body, options_.max_response_bytes, false, curl, request.on_body ? &request.on_body : nullptr,
      std::nullopt};
  CurlSlist headers;
  for (const auto& [name, value] : request.headers) headers.add(name + ": " + value);
  if (options_.bearer_token) {
    auto token = options_.bearer_token();
    if (!token) {
      pool_->release(curl);
      return std::unexpected(
          HttpError{{fmt::format("bearer token: {}", token.error().message)}, HttpErrorKind::kCredentials});
    }
    headers.add("Authorization: Bearer " + *token);
  }
  headers.add("Expect:");  // no 100-continue round trip for bodies

  const std::string url = options_.base_url + request.path;
  const auto total = request.total_timeout.value_or(options_.total_timeout);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: safe in threads
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(total.count()));
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  if (request.keep_going) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &request.keep_going);
  }

  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }

  const TlsOptions& tls = options_.tls;
  if (!tls.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, tls.ca_file.c_str());
  if (!tls.ca_pem.empty()) set_blob(curl, CURLOPT_CAINFO_BLOB, tls.ca_pem);
  if (!tls.client_cert_file.empty()) curl_easy_setopt(curl, CURLOPT_SSLCERT, tls.client_cert_file.c_str());
  if (!tls.client_key_file.empty()) curl_easy_setopt(curl, CURLOPT_SSLKEY, tls.client_key_file.c_str());
  if (!tls.client_cert_pem.empty()) {
    set_blob(curl, CURLOPT_SSLCERT_BLOB, tls.client_cert_pem);
    curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
  }
  if (!tls.client_key_pem.empty()) {
    set_blob(curl, CURLOPT_SSLKEY_BLOB, tls.client_key_pem);
    curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
  }
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, tls.insecure_skip_verify ? 0L : 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, tls.insecure_skip_verify ? 0L : 2L);

  char error_buffer[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);

  pool_->attempts.fetch_add(1);
  const CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    // Drop the handle: its connection may be in any state.
    curl_easy_cleanup(curl);
    const HttpErrorKind kind = body.over_limit ? HttpErrorKind::kTooLarge : kind_of(code);
    never_sent = code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST;
    const std::string detail = body.over_limit
                                   ? fmt::format("response body is over the limit of {} bytes", body.limit)
                               : error_buffer[0] != '\0' ? error_buffer
                                                         : curl_easy_strerror(code);
    return std::unexpected(HttpError{{fmt::format("{} {}: {}", request.method, url, detail)}, kind});
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  pool_->release(curl);
  return response;
}

}  // namespace maestro::net
