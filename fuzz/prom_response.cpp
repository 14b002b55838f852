// Answers of Prometheus's instant-query API (prom::parse_query_response, read-only use). The first byte
// picks the HTTP status the body came with.
#include <cstdint>
#include <string_view>

#include "prom/query_client.hpp"

using namespace maestro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  constexpr long kStatuses[] = {200, 400, 422, 500, 503};
  const long status = kStatuses[data[0] % std::size(kStatuses)];
  (void)prom::parse_query_response(status,
                                   std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  return 0;
}
