// Bodies of POST /predict (model_server::parse_predict_request, read-only use). Invariant: what is
// accepted is what DESIGN §2 allows, five finite, non-negative numbers.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "services/model_server/predict_request.hpp"

using namespace maestro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parsed =
      model_server::parse_predict_request(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed) return 0;
  const auto& o = parsed->observation;
  for (const double value : {o.cpu_usage, o.memory_usage, o.replicas, o.latency, o.rps})
    if (!std::isfinite(value) || value < 0) std::abort();
  return 0;
}
