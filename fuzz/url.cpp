// Request targets, query strings, listen and upstream addresses (net/url, sidecar::parse_upstream).
// The input is "TARGET\nADDRESS". Invariants: decoding never grows a string, a parameter's value is never
// longer than its query, and a parsed address has the port that was written.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/url.hpp"
#include "services/sidecar/proxy.hpp"

using namespace maestro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view target = input.substr(0, newline);
  const std::string_view address = newline == std::string_view::npos ? input : input.substr(newline + 1);

  const auto [path, query] = net::split_target(target);
  if (path.size() + query.size() > target.size()) std::abort();
  if (net::percent_decode(path).size() > path.size()) std::abort();
  // Names as the services ask for them, and the first name the input itself has.
  const std::string_view first_name = query.substr(0, query.find_first_of("=&"));
  for (const std::string_view name :
       {std::string_view("deployment"), std::string_view("namespace"), first_name})
    if (const auto value = net::query_parameter(query, name); value && value->size() > query.size())
      std::abort();

  if (const auto listen = net::parse_listen_address(address);
      listen && !address.ends_with(std::to_string(listen->second)))
    std::abort();
  if (const auto upstream = sidecar::parse_upstream(address);
      upstream && (upstream->second == 0 || !address.ends_with(std::to_string(upstream->second))))
    std::abort();
  return 0;
}
