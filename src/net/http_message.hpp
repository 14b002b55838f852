// What a handler sees and answers: one HTTP request (a view into the connection's buffer) and the response
// it fills in, with the error shape of DESIGN §2. No sockets here: net/router.hpp decides which handler
// answers, net/http_server.hpp reads and writes the bytes.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace maestro::net {

// One request, valid only while its handler runs.
class HttpRequest {
 public:
  std::string_view method;
  std::string_view target;  // path and query as sent
  std::string_view path;    // without the query
  std::string_view query;   // after '?', still encoded
  std::string_view body;

  // The first header of that name (case-insensitive), if any.
  std::optional<std::string_view> header(std::string_view name) const;
  // The percent-decoded value of the first query parameter of that name, if any.
  std::optional<std::string> query_param(std::string_view name) const;

  const void* fields = nullptr;  // the parser's header fields, a net::RequestFields (opaque to handlers)
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

using Handler = std::function<void(const HttpRequest& request, HttpResponse& response)>;

// `value` as JSON text for a response body. Strings may hold bytes from a request (a path, a query
// parameter) that are not UTF-8: they become U+FFFD rather than throwing, so no request can make a
// response unserialisable.
std::string json_text(const nlohmann::json& value);
// {"error": message} with `status`, the error shape of DESIGN §2.
HttpResponse error_response(int status, std::string_view message);
// A JSON body (already serialised) with `status`.
HttpResponse json_response(int status, std::string body);

}  // namespace maestro::net
