#include "net/bearer_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

namespace maestro::net {

namespace {

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

// Tokens are compared through their digests, so the comparison's time does not depend on their lengths.
Digest digest(std::string_view text) {
  Digest out{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
  return out;
}

HttpResponse unauthorized(std::string_view message) {
  HttpResponse response = error_response(401, message);
  response.headers.emplace_back("WWW-Authenticate", R"(Bearer realm="maestro")");
  return response;
}

}  // namespace

std::optional<HttpResponse> refuse_unauthenticated(TokenFile& token, const HttpRequest& request) {
  const auto expected = token.token();
  if (!expected)
    return error_response(503, "authentication is unavailable: the server cannot read its token");
  const auto header = request.header("Authorization");
  if (!header) return unauthorized("authentication required: send Authorization: Bearer <token>");
  constexpr std::string_view kScheme = "Bearer ";
  // The scheme is case-insensitive (RFC 9110 §11.1).
  if (header->size() <= kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), header->begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
      }))
    return unauthorized("authentication required: send Authorization: Bearer <token>");
  const Digest sent = digest(header->substr(kScheme.size()));
  const Digest wanted = digest(*expected);
  if (CRYPTO_memcmp(sent.data(), wanted.data(), sent.size()) != 0)
    return unauthorized("invalid bearer token");
  return std::nullopt;
}

}  // namespace maestro::net
