#include "net/url.hpp"

#include <charconv>

#include <boost/asio/ip/address.hpp>

namespace maestro::net {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  const auto question = target.find('?');
  if (question == std::string_view::npos) return {target, {}};
  return {target.substr(0, question), target.substr(question + 1)};
}

std::string percent_decode(std::string_view encoded) {
  std::string decoded;
  decoded.reserve(encoded.size());
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (c == '+') {
      decoded += ' ';
    } else if (c == '%' && i + 2 < encoded.size() && hex_digit(encoded[i + 1]) >= 0 &&
               hex_digit(encoded[i + 2]) >= 0) {
      decoded += static_cast<char>(hex_digit(encoded[i + 1]) * 16 + hex_digit(encoded[i + 2]));
      i += 2;
    } else {
      decoded += c;
    }
  }
  return decoded;
}

std::optional<std::string> query_parameter(std::string_view query, std::string_view name) {
  std::string_view rest = query;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    if (percent_decode(key) != name) continue;
    return eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

Result<std::pair<std::string, std::uint16_t>> parse_listen_address(std::string_view address) {
  std::string host = "0.0.0.0";
  std::string_view port_text = address;
  if (const auto colon = address.rfind(':'); colon != std::string_view::npos) {
    std::string_view host_text = address.substr(0, colon);
    port_text = address.substr(colon + 1);
    if (host_text.size() >= 2 && host_text.front() == '[' && host_text.back() == ']')
      host_text = host_text.substr(1, host_text.size() - 2);
    if (!host_text.empty()) host = std::string(host_text);
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535 || port_text.empty())
    return fail("listen address '{}' has no valid port (expected HOST:PORT, :PORT or PORT)", address);
  boost::system::error_code bad;
  boost::asio::ip::make_address(host, bad);
  if (bad) return fail("listen address '{}': '{}' is not an IP address", address, host);
  return std::pair{host, static_cast<std::uint16_t>(port)};
}

}  // namespace maestro::net
