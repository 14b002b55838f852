// The suggestion server's answer as the controller reads it (controller::parse_suggestion). Invariant: an
// accepted suggestion has an action index and replicas that are not negative, and a finite change.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "services/controller/suggestion_client.hpp"

using namespace maestro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto suggestion =
      controller::parse_suggestion(std::string(reinterpret_cast<const char*>(data), size));
  if (!suggestion) return 0;
  if (suggestion->action < 0 || suggestion->replicas < 0 || !std::isfinite(suggestion->replica_change.amount))
    std::abort();
  return 0;
}
