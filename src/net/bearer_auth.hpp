// Bearer-token authentication of a service's own endpoints (/predict, /policy, /suggest): a request must
// carry "Authorization: Bearer <token>" with the token a file holds (a mounted Secret, re-read every minute
// so a rotation is picked up). /healthz, /readyz and /metrics stay open — kubelet probes and Prometheus
// scrapes carry no token — and HttpServer applies this to every other route
// (HttpServerOptions::bearer_token).
#pragma once

#include <optional>

#include "net/http_message.hpp"
#include "net/secret_file.hpp"

namespace maestro::net {

// Nothing if `request` carries the token; else the answer: 401 with `WWW-Authenticate: Bearer` for a
// missing, malformed or wrong token, 503 if the token file cannot be read (fail closed: nobody gets in).
// The comparison takes the same time wherever the tokens differ, and neither token appears in the answer.
std::optional<HttpResponse> refuse_unauthenticated(TokenFile& token, const HttpRequest& request);

}  // namespace maestro::net
