// Bodies of POST /predict (model_server::parse_predict_request, read-only use). Invariants: what is
// accepted is what DESIGN §2 allows, five finite, non-negative numbers; and whatever body the direct reader
// takes, nlohmann's SAX reader takes too and reads the same (predict_body.hpp).
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "services/model_server/predict_body.hpp"
#include "services/model_server/predict_request.hpp"

using namespace maestro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (model_server::PredictBody plain; model_server::read_plain_predict_body(text, plain)) {
    model_server::PredictBody json;
    if (!model_server::read_json_predict_body(text, json) || !model_server::same_reading(plain, json))
      std::abort();
  }
  const auto parsed = model_server::parse_predict_request(text);
  if (!parsed) return 0;
  const auto& o = parsed->observation;
  for (const double value : {o.cpu_usage, o.memory_usage, o.replicas, o.latency, o.rps})
    if (!std::isfinite(value) || value < 0) std::abort();
  return 0;
}
