// Credentials for the HTTP endpoints MAESTRO talks to (Prometheus first): never in a URL, where they end up
// in start-up logs, in every HTTP client error and in the 503 bodies that carry those errors to
// unauthenticated callers; read from files instead. redact_credentials() is the one function through which
// any text that may hold a URL passes before it is logged or answered.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "net/http_client.hpp"

namespace maestro::prom {

// `text` with the userinfo of every URL in it ("scheme://user:password@host…") replaced by "***".
std::string redact_credentials(std::string_view text);

// An error naming the URL (redacted) if `url` carries userinfo: credentials go in files, not URLs.
Result<void> refuse_credentials_in_url(std::string_view url, std::string_view what);

// The Authorization header value "Basic base64(user:password)" for a file holding "user:password" on one
// line (surrounding whitespace ignored). Read on every call, so that a rotated secret is picked up.
Result<std::string> basic_authorization(const std::filesystem::path& file);

// What is allowed but insecure about a client's transport — TLS verification skipped
// (insecure-skip-tls-verify), a bearer token or an Authorization header sent over plain http — one sentence
// each, naming `what` and the URL (redacted), for the caller to log once, after its start-up line ("listening
// on PORT" stays the first).
std::vector<std::string> transport_warnings(std::string_view what, const net::HttpClientOptions& options,
                                            bool sends_authorization = false);

}  // namespace maestro::prom
