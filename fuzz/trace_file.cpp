// Request-rate trace files (traffic::load_trace: counts per second or the per-minute CSV, plain or gzip),
// from a file as `maestro eval` and the load generator read them. Invariant: every count is finite and not
// negative.
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "input_file.hpp"
#include "traffic/trace.hpp"

using namespace maestro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto trace = traffic::load_trace(fuzz::input_file(data, size, ".rps").string());
  if (!trace) return 0;
  for (const float count : trace->counts)
    if (!std::isfinite(count) || count < 0) std::abort();
  return 0;
}
