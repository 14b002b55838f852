#include "prom/credentials.hpp"

#include <openssl/evp.h>

#include "net/secret_file.hpp"

namespace maestro::prom {

std::string redact_credentials(std::string_view text) {
  std::string redacted;
  redacted.reserve(text.size());
  std::size_t copied = 0;
  for (std::size_t scheme_end = text.find("://"); scheme_end != std::string_view::npos;
       scheme_end = text.find("://", scheme_end + 3)) {
    const std::size_t authority = scheme_end + 3;
    // The authority ends at the path, query or fragment, or where the URL ends inside a sentence.
    const std::size_t authority_end = std::min(text.find_first_of("/?#\"' \t\r\n", authority), text.size());
    const std::size_t at = text.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
    if (at == std::string_view::npos || at < authority) continue;
    redacted.append(text.substr(copied, authority - copied));
    redacted += "***";
    copied = at;  // keeps the '@' and the host
  }
  redacted.append(text.substr(copied));
  return redacted;
}

Result<void> refuse_credentials_in_url(std::string_view url, std::string_view what) {
  if (redact_credentials(url) == url) return {};
  return fail("{} {}: credentials in a URL end up in logs and error messages; give them in a file instead",
              what, redact_credentials(url));
}

Result<std::string> basic_authorization(const std::filesystem::path& file) {
  auto secret = net::read_secret(file);
  if (!secret) return fail("basic auth file: {}", secret.error().message);
  const std::string& pair = *secret;
  if (pair.find(':') == std::string::npos || pair.find_first_of("\r\n") != std::string::npos)
    return fail("basic auth file {} must hold one line USER:PASSWORD", file.string());
  std::string encoded(4 * ((pair.size() + 2) / 3) + 1, '\0');
  const int length =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                      reinterpret_cast<const unsigned char*>(pair.data()), static_cast<int>(pair.size()));
  encoded.resize(static_cast<std::size_t>(length));
  return "Basic " + encoded;
}

std::vector<std::string> transport_warnings(std::string_view what, const net::HttpClientOptions& options,
                                            bool sends_authorization) {
  std::vector<std::string> warnings;
  const std::string url = redact_credentials(options.base_url);
  if (options.tls.insecure_skip_verify)
    warnings.push_back(fmt::format(
        "{} {}: insecure-skip-tls-verify is set: the server's certificate is NOT verified", what, url));
  if ((options.bearer_token || sends_authorization) && options.base_url.starts_with("http://"))
    warnings.push_back(fmt::format("{} {}: plain http: its credentials travel unencrypted", what, url));
  return warnings;
}

}  // namespace maestro::prom
